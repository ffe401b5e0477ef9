package podruntime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/shoal-dev/shoal/api"
)

// shareProcessNamespace: true puts all containers of a pod in one PID
// namespace, so one sees (and may signal) the other's processes, as in
// Kubernetes. A PID namespace lives only as long as its first process, and
// no container of the pod outlives all the others (init containers end,
// any container restarts), so, as the kubelet's pause container does, a
// small holder is PID 1 of the namespace and reaps the orphans there: this
// very binary, started again under the name pauseArgv0 (the init below
// catches it before anything else runs). It runs in the agent's network
// namespace and session of its own, outlives an agent restart (the
// namespace is pinned in the sandbox as "pid" and the holder's pid kept
// beside it), and is killed when the sandbox is removed.

const (
	pauseArgv0   = "shoal-pidns-pause"
	pausePIDFile = "pidns-holder"
)

func init() {
	if len(os.Args) > 1 && os.Args[0] == pauseArgv0 {
		os.Exit(pause())
	}
}

// pause is the holder's whole life: reap whatever is orphaned into the
// namespace until SIGKILL. As PID 1 of its namespace it receives no signal
// it has no handler for from inside; SIGTERM and the like from outside are
// ignored too, so only removing the sandbox stops it.
func pause() int {
	signal.Ignore(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)
	children := make(chan os.Signal, 1)
	signal.Notify(children, syscall.SIGCHLD)
	for range children {
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
	return 0
}

func sharesPIDs(pod *api.Pod) bool {
	return pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace
}

// ensurePIDNamespace makes sure the pod's shared PID namespace has its
// holder and is pinned in the sandbox; a holder that died (its namespace
// with it) is replaced, and the containers join the new namespace as they
// restart.
func (r *Runtime) ensurePIDNamespace(podUID string) error {
	dir := r.sandboxDir(podUID)
	target := filepath.Join(dir, "pid")
	if holderAlive(dir) {
		return nil
	}
	if err := stopPIDHolder(dir); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable for the PID namespace holder: %w", err)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer devnull.Close()
	// The sandbox directory in its arguments names the pod (and lets a
	// lab's cleanup find it by its state directory).
	cmd := &exec.Cmd{Path: exe, Args: []string{pauseArgv0, dir}, Stdin: devnull,
		SysProcAttr: &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID, Setsid: true}}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the PID namespace holder of pod %s: %w", podUID, err)
	}
	go func() { _ = cmd.Wait() }() // reaped by us while we live, by init after
	pid := cmd.Process.Pid
	if err := os.WriteFile(filepath.Join(dir, pausePIDFile), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		_ = cmd.Process.Kill()
		return fmt.Errorf("record the PID namespace holder of pod %s: %w", podUID, err)
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_RDONLY, 0o444)
	if err != nil {
		_ = cmd.Process.Kill()
		return fmt.Errorf("create mount point %s: %w", target, err)
	}
	f.Close()
	if err := unix.Mount(fmt.Sprintf("/proc/%d/ns/pid", pid), target, "", unix.MS_BIND, ""); err != nil {
		_ = cmd.Process.Kill()
		return fmt.Errorf("pin the PID namespace of pod %s: %w", podUID, err)
	}
	r.log.Info("shared PID namespace created", "pod", podUID, "holder", pid)
	return nil
}

// holderPID is the recorded holder's pid, 0 when none.
func holderPID(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, pausePIDFile))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// isHolder tells whether pid is the holder of the sandbox in dir: its
// command line says so (a recycled pid does not).
func isHolder(pid int, dir string) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && string(b) == pauseArgv0+"\x00"+dir+"\x00"
}

// holderAlive tells whether the pinned namespace is the live holder's.
func holderAlive(dir string) bool {
	pid := holderPID(dir)
	target := filepath.Join(dir, "pid")
	if !isHolder(pid, dir) || !isNSMount(target) {
		return false
	}
	var pinned, live unix.Stat_t
	if unix.Stat(target, &pinned) != nil || unix.Stat(fmt.Sprintf("/proc/%d/ns/pid", pid), &live) != nil {
		return false
	}
	return pinned.Ino == live.Ino && pinned.Dev == live.Dev
}

// stopPIDHolder kills the sandbox's holder (which kills what is left in
// its namespace) and unpins the namespace; none is fine.
func stopPIDHolder(dir string) error {
	if pid := holderPID(dir); isHolder(pid, dir) {
		if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("stop PID namespace holder %d: %w", pid, err)
		}
	}
	target := filepath.Join(dir, "pid")
	for i := 0; i < 8 && isNSMount(target); i++ {
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmount %s: %w", target, err)
		}
	}
	if err := os.Remove(filepath.Join(dir, pausePIDFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// pidNamespaceOpts joins the pod's shared PID namespace, if it has one.
func (r *Runtime) pidNamespaceOpts(pod *api.Pod) []oci.SpecOpts {
	if !sharesPIDs(pod) {
		return nil
	}
	return []oci.SpecOpts{oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.PIDNamespace, Path: r.sandboxNSPath(string(pod.ObjectMeta.UID), "pid")})}
}
