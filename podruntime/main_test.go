package podruntime

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testContainerd is the containerd this package's tests start for
// themselves; nil (with skipReason) when they cannot run here.
var (
	testContainerd *containerdProc
	skipReason     string
)

const testNamespace = "shoal-podruntime-test"

type containerdProc struct {
	dir     string
	address string
	cmd     *exec.Cmd
	done    chan struct{} // closed when containerd has exited
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	switch {
	case os.Geteuid() != 0:
		skipReason = "needs root to run containerd"
	default:
		for _, bin := range []string{"containerd", "runc", "containerd-shim-runc-v2", "ip"} {
			if _, err := exec.LookPath(bin); err != nil {
				skipReason = bin + " not installed"
			}
		}
	}
	if skipReason == "" {
		p, err := startContainerd()
		if err != nil {
			fmt.Fprintln(os.Stderr, "start containerd:", err)
			return 1
		}
		testContainerd = p
		defer p.stop()
	}
	return m.Run()
}

// startContainerd runs a private containerd (no CRI plugin) under a fresh
// directory and waits until it answers.
func startContainerd() (*containerdProc, error) {
	dir, err := os.MkdirTemp("", "shoal-ctd-")
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"), 0o644); err != nil {
		return nil, err
	}
	p := &containerdProc{dir: dir, address: filepath.Join(dir, "c.sock")}
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command("containerd", "--config", cfg,
		"--root", filepath.Join(dir, "root"), "--state", filepath.Join(dir, "state"),
		"--address", p.address)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	// Pdeathsig fires when the OS thread that forked containerd ends, not
	// the process; the sandbox code ends threads on purpose, so containerd
	// is forked from a goroutine that holds its thread until containerd
	// exits. If the test binary crashes, containerd still gets SIGTERM.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	p.done = make(chan struct{})
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := p.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = p.cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		r, err := New(ctx, Config{Address: p.address, Namespace: testNamespace, StateDir: filepath.Join(dir, "probe")})
		cancel()
		if err == nil {
			r.Close()
			return p, nil
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("containerd did not answer on %s: %w", p.address, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop kills containerd, unmounts whatever is still mounted under its
// directory (snapshots, sandboxes) and removes it.
func (p *containerdProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	unmountUnder(p.dir)
	_ = os.RemoveAll(p.dir)
	for _, ctrl := range []string{"memory", "cpu", "cpuacct", "pids", "blkio", "devices", "freezer", "cpuset", "systemd", "unified", ""} {
		_ = os.Remove(filepath.Join("/sys/fs/cgroup", ctrl, testNamespace))
	}
}

// mountsUnder lists mount points at or below dir, deepest first.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			out = append(out, fields[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}

func unmountUnder(dir string) {
	for _, m := range mountsUnder(dir) {
		_ = unix.Unmount(m, unix.MNT_DETACH)
	}
}
