// Package e2e drives a real lab fleet through the shoal binary, as a user
// would: real agents, real containerd, real network namespaces. It runs
// only with SHOAL_E2E=1 (and as root) so that `go test ./...` stays fast.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// fleet is one lab brought up for a test, and the CLI pointed at it.
type fleet struct {
	t         *testing.T
	bin       string
	name      string
	stateRoot string
	env       []string
	// wrap goes before the binary on every command line, e.g. nsenter
	// into a mount namespace of the test's own; empty runs it directly.
	wrap []string
}

var shoalBin string

func TestMain(m *testing.M) {
	if os.Getenv("SHOAL_E2E") != "1" {
		fmt.Println("e2e: skipped (set SHOAL_E2E=1, as root, to run against a real lab)")
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "shoal-e2e-bin-")
	if err != nil {
		panic(err)
	}
	shoalBin = filepath.Join(dir, "shoal")
	// The tags and flags the Makefile builds the binary with (BUILDTAGS
	// and BUILDFLAGS there), so the benchmarks measure what ships.
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-tags", "no_dynamic_plugins", "-o", shoalBin, "../cmd/shoal")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build shoal:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func requireE2E(t *testing.T) {
	t.Helper()
	if os.Getenv("SHOAL_E2E") != "1" {
		t.Skip("set SHOAL_E2E=1 to run end-to-end tests")
	}
	if os.Geteuid() != 0 {
		t.Skip("end-to-end tests need root")
	}
}

// labName makes a lab name unique to this test process, so that two
// suites running at once on one host never share namespaces.
func labName(base string) string {
	return fmt.Sprintf("%s%d", base, os.Getpid()%100000)
}

// startFleet brings up a lab and registers its teardown, which runs even
// when the test fails.
func startFleet(t *testing.T, name string, args ...string) *fleet {
	return startFleetWrapped(t, name, nil, args...)
}

// startFleetWrapped is startFleet with every shoal command, the teardown's
// too, run behind wrap (see fleet.wrap).
func startFleetWrapped(t *testing.T, name string, wrap []string, args ...string) *fleet {
	requireE2E(t)
	f := &fleet{t: t, bin: shoalBin, name: name, stateRoot: t.TempDir(), wrap: wrap}
	t.Cleanup(func() {
		if t.Failed() {
			f.dumpLogs()
		}
		out, err := f.command("lab", "down", name, "--state-root", f.stateRoot).CombinedOutput()
		if err != nil {
			t.Errorf("lab down: %v\n%s", err, out)
		}
	})
	up := append([]string{"lab", "up", name, "--state-root", f.stateRoot}, args...)
	f.run(up...)
	env := f.run("lab", "env", name, "--state-root", f.stateRoot)
	for _, line := range strings.Split(env, "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "export ")
		if k, v, ok := strings.Cut(line, "="); ok {
			f.env = append(f.env, k+"="+strings.Trim(v, `"'`))
		}
	}
	return f
}

func (f *fleet) dumpLogs() {
	logs, _ := filepath.Glob(filepath.Join(f.stateRoot, f.name, "*", "agent.log"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		if len(b) > 6000 {
			b = b[len(b)-6000:]
		}
		f.t.Logf("==== %s (tail)\n%s", l, b)
	}
}

// run runs the shoal CLI and fails the test when it fails.
func (f *fleet) run(args ...string) string {
	f.t.Helper()
	out, err := f.try(args...)
	if err != nil {
		f.t.Fatalf("shoal %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// command is the shoal CLI with args, behind f.wrap.
func (f *fleet) command(args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, f.wrap...), f.bin), args...)
	return exec.Command(argv[0], argv[1:]...)
}

func (f *fleet) try(args ...string) (string, error) {
	cmd := f.command(args...)
	cmd.Env = append(os.Environ(), f.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (f *fleet) apply(manifest string) {
	f.t.Helper()
	path := filepath.Join(f.t.TempDir(), "manifest.yaml")
	if err := os.WriteFile(path, []byte(manifest), 0o644); err != nil {
		f.t.Fatal(err)
	}
	f.run("apply", "-f", path)
}

func (f *fleet) pod(name string) (*api.Pod, error) {
	out, err := f.try("get", "pod", name, "-o", "json")
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	var p api.Pod
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		return nil, fmt.Errorf("decode %q: %w", out, err)
	}
	return &p, nil
}

// waitPod polls the pod until cond holds or the deadline passes. The
// deadline is a bound on a broken fleet, not a speed assertion.
func (f *fleet) waitPod(name string, what string, cond func(*api.Pod) bool) *api.Pod {
	f.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var last *api.Pod
	var lastErr error
	for time.Now().Before(deadline) {
		p, err := f.pod(name)
		if err == nil && cond(p) {
			return p
		}
		last, lastErr = p, err
		time.Sleep(300 * time.Millisecond)
	}
	b, _ := json.MarshalIndent(last, "", "  ")
	f.t.Fatalf("pod %s never became %s (last error %v):\n%s", name, what, lastErr, b)
	return nil
}

func running(p *api.Pod) bool {
	if p.Status.Phase != api.PodRunning || len(p.Status.ContainerStatuses) != len(p.Spec.Containers) {
		return false
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running == nil {
			return false
		}
	}
	return true
}

// importBusybox builds the test image from Debian's busybox-static with
// shoal's own code and imports it into every node.
func (f *fleet) importBusybox() {
	f.t.Helper()
	archive := filepath.Join(f.t.TempDir(), "busybox.tar")
	f.run("image", "build-busybox", "-o", archive, "--ref", "shoal.local/busybox:1")
	f.run("image", "import", archive)
}
