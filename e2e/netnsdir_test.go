package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// holdMountNS starts a process in a private mount namespace of its own in
// which /run/netns is a plain directory again, as on a freshly booted
// host, and returns the nsenter prefix that runs a command there. The host's
// own /run/netns mounts are never touched. At cleanup it removes what lab
// down may have left in that namespace (the host shares the directory's
// files, not its mounts) and ends the process, which ends the namespace.
func holdMountNS(t *testing.T, labs ...string) (pid int, wrap []string) {
	t.Helper()
	requireE2E(t)
	for _, tool := range []string{"unshare", "nsenter", "mountpoint"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (util-linux)", tool)
		}
	}
	// unshare and sh exec in place: the pid that reports ready is the one
	// that holds the namespace.
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c",
		`while mountpoint -q /run/netns; do umount -l /run/netns || exit 1; done
mkdir -p /run/netns && echo ready && exec sleep infinity`)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start a private mount namespace: %v", err)
	}
	pid = cmd.Process.Pid
	wrap = []string{"nsenter", "-t", strconv.Itoa(pid), "-m", "--"}
	t.Cleanup(func() {
		var globs []string
		for _, l := range labs {
			globs = append(globs, "/run/netns/shoal-"+l, "/run/netns/shoal-"+l+"-*")
		}
		// Bind mounts first (they hide older copies), then every copy
		// stacked on a lab's file, then the file.
		script := `while mountpoint -q /run/netns; do umount -l /run/netns; done
for f in ` + strings.Join(globs, " ") + `; do
	[ -e "$f" ] || continue
	while umount -l "$f" 2>/dev/null; do :; done
	rm -f "$f"
done`
		argv := append(append([]string{}, wrap...), "sh", "-c", script)
		if b, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Errorf("clean the private mount namespace: %v\n%s", err, b)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("private mount namespace not ready: %q %v", line, err)
	}
	if ms := mountsIn(t, pid, func(mp string) bool { return mp == "/run/netns" }); len(ms) != 0 {
		t.Fatalf("/run/netns still a mount point in the private namespace: %v", ms)
	}
	return pid, wrap
}

// mountsIn lists the mount points of pid's mount namespace that match.
func mountsIn(t *testing.T, pid int, match func(mountPoint string) bool) []string {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && match(fields[4]) {
			out = append(out, fields[4])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// ofLab matches lab name's namespace files (its own, nodes', pods').
func ofLab(name string) func(string) bool {
	return func(p string) bool {
		return p == "/run/netns/shoal-"+name || strings.HasPrefix(p, "/run/netns/shoal-"+name+"-")
	}
}

// assertLabGone checks that nothing of f's lab is left in the mount
// namespace of pid: no namespace file, no mount of one, no mount under its
// directory, no directory, no process.
func assertLabGone(t *testing.T, pid int, f *fleet) {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/root/run/netns", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if ofLab(f.name)("/run/netns/" + e.Name()) {
			t.Errorf("netns %s left behind", e.Name())
		}
	}
	if ms := mountsIn(t, pid, ofLab(f.name)); len(ms) > 0 {
		t.Errorf("netns mounts left behind: %v", ms)
	}
	dir := filepath.Join(f.stateRoot, f.name)
	if ms := mountsIn(t, pid, func(mp string) bool { return mp == dir || strings.HasPrefix(mp, dir+"/") }); len(ms) > 0 {
		t.Errorf("mounts under %s left behind: %v", dir, ms)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("lab directory %s left behind: %v", dir, err)
	}
	if ps, _ := exec.Command("pgrep", "-f", dir).CombinedOutput(); strings.TrimSpace(string(ps)) != "" {
		t.Errorf("processes of %s left running: %s", dir, ps)
	}
}

// Issue 28: on a host where /run/netns is not a mount point yet, the lab
// mounted its namespaces into the plain directory and the first pod then
// bound the directory onto itself, stacking a second copy of every lab
// mount; lab down removed only the copy it could see and failed with
// EBUSY. Run in a private mount namespace, so the host is never in that
// state.
func TestLabDownOnFreshNetnsDir(t *testing.T) {
	a, b := labName("nsa"), labName("nsb")
	pid, wrap := holdMountNS(t, a, b)

	fa := startFleetWrapped(t, a, wrap, "--nodes", "1")
	fa.importBusybox()
	fa.apply(`apiVersion: v1
kind: Pod
metadata: {name: sleeper}
spec:
  containers:
  - name: sleep
    image: ` + image + `
    command: ["sleep", "3600"]
`)
	fa.waitPod("sleeper", "Running", running)
	fb := startFleetWrapped(t, b, wrap, "--nodes", "1")

	if ms := mountsIn(t, pid, func(mp string) bool { return mp == "/run/netns" }); len(ms) != 1 {
		t.Errorf("/run/netns mounted %d times, want once (a shared bind): %v", len(ms), ms)
	}
	for _, f := range []*fleet{fa, fb} {
		seen := map[string]int{}
		for _, mp := range mountsIn(t, pid, ofLab(f.name)) {
			seen[mp]++
		}
		if len(seen) == 0 {
			t.Errorf("no namespace of lab %s mounted", f.name)
		}
		for mp, n := range seen {
			if n != 1 {
				t.Errorf("%s mounted %d times, want once", mp, n)
			}
		}
	}

	fa.run("lab", "down", a, "--state-root", fa.stateRoot)
	assertLabGone(t, pid, fa)
	fb.run("lab", "down", b, "--state-root", fb.stateRoot)
	assertLabGone(t, pid, fb)
}
