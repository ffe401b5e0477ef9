package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/deploy/lab"
)

// Issue 22 item 3: labs never step on each other. While a chaos run
// kills, cuts off and restarts the agents of one lab, three more labs come
// up (two at once) and go down in an order that is neither the order they
// came up nor its reverse, one of them is brought up again under its old
// name, and one lab's name is another's with a suffix (a and a-b share
// the prefix of every namespace name). After each down nothing of that lab
// is left, and the labs still up still run their pods; the chaos run ends
// with no violation and nothing of its lab left.
func TestLabsNeverInterfere(t *testing.T) {
	requireE2E(t)
	base := labName("ix")
	chaosName, a, b, c := base+"-c", base, base+"-b", base+"-z"
	root := t.TempDir()

	chaosRoot, err := os.MkdirTemp("/tmp", "shix")
	if err != nil {
		t.Fatal(err)
	}
	chaosOut := &lockedBuffer{}
	chaosCmd := exec.Command(shoalBin, "lab", "chaos", chaosName, "--state-root", chaosRoot,
		"--nodes", "3", "--seed", chaosSuiteSeed, "--duration", "100s")
	chaosCmd.Stdout, chaosCmd.Stderr = chaosOut, chaosOut
	if err := chaosCmd.Start(); err != nil {
		t.Fatal(err)
	}
	chaosDone := make(chan error, 1)
	go func() { chaosDone <- chaosCmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-chaosDone:
		default:
			_ = chaosCmd.Process.Signal(os.Interrupt)
			<-chaosDone
		}
		if out, err := exec.Command(shoalBin, "lab", "down", chaosName, "--state-root", chaosRoot).CombinedOutput(); err != nil {
			t.Errorf("lab down %s: %v\n%s", chaosName, err, out)
		}
		os.RemoveAll(chaosRoot)
	})
	// The bound is a broken run, not a speed figure: the chaos lab comes
	// up, imports its image and settles its workload first.
	for deadline := time.Now().Add(6 * time.Minute); !strings.Contains(chaosOut.String(), "episode #1"); {
		select {
		case err := <-chaosDone:
			chaosDone <- err
			t.Fatalf("chaos run ended before its first episode: %v\n%s", err, chaosOut)
		case <-time.After(time.Second):
		}
		if time.Now().After(deadline) {
			t.Fatalf("chaos run has no episode after 6 minutes:\n%s", chaosOut)
		}
	}

	// a and b at once: each picks its range while the other may be
	// picking too.
	labs := map[string]*fleet{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	upErrs := map[string]error{}
	for _, name := range []string{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := upLab(t, root, name)
			mu.Lock()
			defer mu.Unlock()
			labs[name], upErrs[name] = f, err
		}()
	}
	wg.Wait()
	for name, err := range upErrs {
		if err != nil {
			t.Fatalf("lab up %s (while another came up): %v", name, err)
		}
	}
	fc, err := upLab(t, root, c)
	if err != nil {
		t.Fatalf("lab up %s: %v", c, err)
	}
	labs[c] = fc
	ranges := map[string]string{}
	for _, name := range []string{chaosName, a, b, c} {
		r := root
		if name == chaosName {
			r = chaosRoot
		}
		l, err := lab.Load(r, name)
		if err != nil {
			t.Fatalf("load %s: %v", name, err)
		}
		if other, ok := ranges[l.LabCIDR]; ok {
			t.Errorf("labs %s and %s share the range %s", other, name, l.LabCIDR)
		}
		ranges[l.LabCIDR] = name
	}

	archive := filepath.Join(t.TempDir(), "busybox.tar")
	labs[a].run("image", "build-busybox", "-o", archive, "--ref", "shoal.local/busybox:1")
	for _, name := range []string{a, b, c} {
		startSleeper(labs[name], archive)
	}

	// b (up second, at once with a) goes first, then a; c stays.
	downAndCheck(t, labs[b], labs[a], labs[c])
	downAndCheck(t, labs[a], labs[c])
	// a again under its old name, then c goes while a is up.
	fa, err := upLab(t, root, a)
	if err != nil {
		t.Fatalf("lab up %s again: %v", a, err)
	}
	labs[a] = fa
	startSleeper(fa, archive)
	downAndCheck(t, labs[c], fa)
	downAndCheck(t, fa)

	var chaosErr error
	select {
	case chaosErr = <-chaosDone:
	case <-time.After(10 * time.Minute):
		_ = chaosCmd.Process.Signal(os.Interrupt)
		chaosErr = <-chaosDone
		t.Errorf("chaos run still going after 10 minutes")
	}
	chaosDone <- chaosErr
	out := chaosOut.String()
	t.Logf("shoal lab chaos (while the other labs came and went):\n%s", out)
	if chaosErr != nil {
		t.Errorf("chaos run: %v", chaosErr)
	}
	for _, want := range []string{"chaos summary", "(e) nothing leaked after down", "linearizability Ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("chaos output lacks %q", want)
		}
	}
	assertNothingLeft(t, chaosRoot, chaosName)
}

// upLab brings lab name up with one node under root, without failing the
// test from a goroutine; the lab goes down at the end of the test in any
// case.
func upLab(t *testing.T, root, name string) (*fleet, error) {
	f := &fleet{t: t, bin: shoalBin, name: name, stateRoot: root}
	t.Cleanup(func() {
		if out, err := f.command("lab", "down", name, "--state-root", root).CombinedOutput(); err != nil {
			t.Errorf("lab down %s: %v\n%s", name, err, out)
		}
	})
	if out, err := f.try("lab", "up", name, "--state-root", root, "--nodes", "1", "--node-memory", "512Mi"); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, out)
	}
	t.Logf("%s lab %s up", time.Now().UTC().Format("15:04:05"), name)
	env, err := f.try("lab", "env", name, "--state-root", root)
	if err != nil {
		return nil, fmt.Errorf("lab env: %w\n%s", err, env)
	}
	for _, line := range strings.Split(env, "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "export ")
		if k, v, ok := strings.Cut(line, "="); ok {
			f.env = append(f.env, k+"="+strings.Trim(v, `"'`))
		}
	}
	return f, nil
}

// startSleeper imports the image into f's lab and runs a pod there, so the
// lab holds a pod network namespace and containerd shims.
func startSleeper(f *fleet, archive string) {
	f.t.Helper()
	f.run("image", "import", archive)
	f.apply(`apiVersion: v1
kind: Pod
metadata: {name: sleeper}
spec:
  containers:
  - name: sleep
    image: shoal.local/busybox:1
    command: ["sleep", "3600"]
    resources: {requests: {memory: 16Mi}}
`)
	f.waitPod("sleeper", "Running", running)
}

// downAndCheck takes gone's lab down, checks nothing of it is left, and
// that every lab in stay still answers and still runs its sleeper in a
// pod network namespace of its own.
func downAndCheck(t *testing.T, gone *fleet, stay ...*fleet) {
	t.Helper()
	gone.run("lab", "down", gone.name, "--state-root", gone.stateRoot)
	t.Logf("%s lab %s down", time.Now().UTC().Format("15:04:05"), gone.name)
	assertNothingLeft(t, gone.stateRoot, gone.name)
	for _, f := range stay {
		p := f.waitPod("sleeper", "Running", running)
		l := f.labState()
		prefix := l.PodNetnsPrefix(p.Spec.NodeName)
		entries, err := os.ReadDir(lab.NetnsDir)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range entries {
			found = found || strings.HasPrefix(e.Name(), prefix)
		}
		if !found {
			t.Errorf("after lab down %s: lab %s's pod network namespace (%s*) is gone", gone.name, f.name, prefix)
		}
		if out, err := f.try("get", "nodes"); err != nil || !strings.Contains(out, "Ready") {
			t.Errorf("after lab down %s: lab %s does not answer: %v\n%s", gone.name, f.name, err, out)
		}
	}
}

// assertNothingLeft fails the test for anything of lab name still on the
// host (lab.Leftovers: namespaces and their mounts, the host link,
// processes, mounts, the state dir).
func assertNothingLeft(t *testing.T, root, name string) {
	t.Helper()
	left, err := lab.Leftovers(context.Background(), root, name, "")
	if err != nil {
		t.Fatalf("leftovers of %s: %v", name, err)
	}
	for _, s := range left {
		t.Errorf("lab %s: left after down: %s", name, s)
	}
}
