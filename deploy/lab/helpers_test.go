package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// requireRoot skips tests that need namespaces and containerd on machines
// where they cannot run; CI runs them as root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, bin := range []string{"containerd", "containerd-shim-runc-v2"} {
		if _, err := lookPath(bin); err != nil {
			t.Skipf("needs %s", bin)
		}
	}
}

// uniqueName is a lab name no other test or lab uses.
func uniqueName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

// shortStateRoot is a state root short enough for containerd's unix socket
// (t.TempDir paths carry the test name and run past the 108-byte limit).
func shortStateRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "shl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// buildFakeAgent compiles testdata/fakeagent once per test.
func buildFakeAgent(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "fakeagent")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/fakeagent")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build fake agent: %v\n%s", err, b)
	}
	return out
}

// downOnCleanup removes the lab after the test, even a failed one.
func downOnCleanup(t *testing.T, root, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := Down(ctx, root, name); err != nil {
			t.Errorf("cleanup down: %v", err)
		}
	})
}

// assertGone checks that nothing of lab name is left on the host.
func assertGone(t *testing.T, root, name string, pids []int) {
	t.Helper()
	all, err := listNetns()
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range all {
		if ownsNetns(name, ns) {
			t.Errorf("netns %s left behind", ns)
		}
	}
	if ms, err := netnsMounts(name); err != nil || len(ms) > 0 {
		t.Errorf("netns mounts left behind: %v %v", ms, err)
	}
	if linkExists(hostLinkName(name)) {
		t.Errorf("host link %s left behind", hostLinkName(name))
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d (%s) left running", pid, cmdline(pid))
		}
	}
	dir := stateDir(root, name)
	if left := processesMentioningDir(dir); len(left) > 0 {
		t.Errorf("processes started under %s left running: %v", dir, left)
	}
	if mps, _ := mountsUnder(dir); len(mps) > 0 {
		t.Errorf("mounts left under %s: %v", dir, mps)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("state dir %s left behind", dir)
	}
}

func linkExists(name string) bool {
	_, err := netlink.LinkByName(name)
	return err == nil
}

// count is how many times s occurs in list.
func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}
