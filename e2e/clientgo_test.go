package e2e

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/deploy/lab"
)

// buildClientGo builds the client-go program of e2e/clientgo in its own
// module, as an operator's is built (static, so it also runs in a
// busybox image), and returns the binary's path.
func buildClientGo(t *testing.T) string {
	t.Helper()
	return buildInClientGoModule(t, ".", "clientgo")
}

// buildInClientGoModule builds package pkg of the e2e/clientgo module
// static into a binary called name.
func buildInClientGoModule(t *testing.T, pkg, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
	cmd.Dir = "clientgo"
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s of e2e/clientgo: %v\n%s", pkg, err, out)
	}
	return bin
}

// TestClientGoAtDefaults runs e2e/clientgo, an unchanged client-go
// program in its own module (protobuf bodies, watch-list informers),
// against three seats through a client agent: its informer syncs and
// follows, its typed clientset writes, concurrent get-modify-update loops
// resolve their conflicts with retries, two candidates elect a leader on a
// Lease and hand over; then the Raft leader is killed and the same
// program, with the same clientset and informer, does it all again.
func TestClientGoAtDefaults(t *testing.T) {
	bin := buildClientGo(t)
	f := startFleet(t, labName("cg"), "--nodes", "4", "--servers", "3")
	f.importBusybox()
	l, err := lab.Load(f.stateRoot, f.name)
	if err != nil {
		t.Fatal(err)
	}
	// n4 holds no seat: every request also crosses the agents' forwarding.
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(f.run("kubeconfig", "--server", l.Nodes[3].APIURL())), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	prog := exec.CommandContext(ctx, bin, "-kubeconfig", kubeconfig)
	stdin, err := prog.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := prog.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	prog.Stderr = &stderr
	if err := prog.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	var said []string
	next := func() bool {
		if !lines.Scan() {
			return false
		}
		said = append(said, lines.Text())
		t.Logf("clientgo: %s", lines.Text())
		return true
	}
	for next() && lines.Text() != "pause" {
	}
	if len(said) == 0 || said[len(said)-1] != "pause" {
		prog.Wait()
		t.Fatalf("the client-go program stopped before the leader kill:\n%s\n%s", strings.Join(said, "\n"), stderr.String())
	}

	// Kill the Raft leader (never the client agent) while the program
	// holds its clientset, informer and watch open.
	leader := f.waitLeader(nil)
	f.run("lab", "kill", f.name, leader, "--state-root", f.stateRoot)
	f.waitLeader(map[string]bool{leader: true})
	io.WriteString(stdin, "go on\n")
	for next() {
	}
	if err := prog.Wait(); err != nil {
		t.Fatalf("the client-go program failed after the leader kill: %v\n%s", err, stderr.String())
	}
	want := []string{"informer synced", "created cg, seen by the informer",
		"before: 4 get-modify-update writers landed", "before: leader election handed over", "pause",
		"after: 4 get-modify-update writers landed", "after: leader election handed over", "done"}
	if strings.Join(said, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the client-go program said:\n%s\nwant:\n%s", strings.Join(said, "\n"), strings.Join(want, "\n"))
	}
}
