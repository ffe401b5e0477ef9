package netnsdir

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// childEnv marks the copy of the test binary that runs in a private mount
// namespace; only there do the tests mount anything.
const childEnv = "SHOAL_NETNSDIR_CHILD"

// inPrivateMountNS reports whether the caller is the child and should run
// the test's body. In the parent it runs this one test again under
// `unshare -m --propagation private`, so no mount it makes reaches the
// host, and fails when the child fails.
func inPrivateMountNS(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == "1" {
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("mount namespaces need root")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare (util-linux) not installed")
	}
	cmd := exec.Command(unshare, "-m", "--propagation", "private",
		os.Args[0], "-test.run", "^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("in a private mount namespace: %v\n%s", err, out)
	}
	return false
}

// mountsAt lists the mountinfo lines whose mount point is path.
func mountsAt(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && fields[4] == path {
			out = append(out, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// mountNetns bind-mounts the test's own network namespace at path, the way
// `ip netns add` mounts a new one.
func mountNetns(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o444)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := unix.Mount("/proc/self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
		t.Fatalf("mount netns at %s: %v", path, err)
	}
}

// testDir is a fresh directory that is not a mount point. It lives under
// /tmp, whose mounts this private namespace owns.
func testDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "netnsdir-")
	if err != nil {
		t.Fatal(err)
	}
	netns := filepath.Join(dir, "netns")
	t.Cleanup(func() {
		for range maxStack {
			if unix.Unmount(netns, unix.MNT_DETACH) != nil {
				break
			}
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
	})
	return netns
}

func TestPrepareMakesOneSharedMount(t *testing.T) {
	if !inPrivateMountNS(t) {
		return
	}
	dir := testDir(t)
	for i := range 3 {
		if err := Prepare(dir); err != nil {
			t.Fatalf("Prepare #%d: %v", i+1, err)
		}
	}
	ms := mountsAt(t, dir)
	if len(ms) != 1 {
		t.Fatalf("after three Prepare calls, %d mounts at %s, want one:\n%s", len(ms), dir, strings.Join(ms, "\n"))
	}
	if !strings.Contains(ms[0], " shared:") {
		t.Fatalf("mount at %s is not shared: %s", dir, ms[0])
	}
}

func TestRemoveTakesOffEveryStackedMount(t *testing.T) {
	if !inPrivateMountNS(t) {
		return
	}
	dir := testDir(t)
	if err := Prepare(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "shoal-x-n1")
	for range 3 {
		mountNetns(t, path)
	}
	if n := len(mountsAt(t, path)); n != 3 {
		t.Fatalf("%d mounts at %s before Remove, want 3", n, path)
	}
	if err := Remove(path); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if ms := mountsAt(t, path); len(ms) != 0 {
		t.Fatalf("mounts left at %s:\n%s", path, strings.Join(ms, "\n"))
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s still there: %v", path, err)
	}
	if err := Remove(path); err != nil {
		t.Fatalf("Remove of a missing path: %v", err)
	}
}

// A namespace mounted in the directory before Prepare is copied by the
// bind, and its original ends up out of reach: this is the order every
// caller must avoid, and Remove says what happened instead of a bare EBUSY.
func TestRemoveExplainsAMountHiddenByALateBind(t *testing.T) {
	if !inPrivateMountNS(t) {
		return
	}
	dir := testDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	early := filepath.Join(dir, "shoal-early")
	mountNetns(t, early)
	if err := Prepare(dir); err != nil {
		t.Fatal(err)
	}
	err := Remove(early)
	if !errors.Is(err, unix.EBUSY) || !strings.Contains(err.Error(), "hidden under a bind") {
		t.Fatalf("Remove of a namespace mounted before Prepare = %v, want EBUSY explained", err)
	}
	// Take the bind off (only this private namespace has it) so the
	// original is reachable again and the directory can go.
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	if err := Remove(early); err != nil {
		t.Fatalf("Remove once the bind is gone: %v", err)
	}
}
