package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// alive reports whether pid is a running process: not a zombie, or a
// zombie whose other threads have not finished exiting.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses, which may itself
	// contain spaces or parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return false
	}
	state := stat[i+2]
	if state == 'X' {
		return false
	}
	if state == 'Z' {
		// A killed multi-threaded process shows its main thread as a
		// zombie while other threads still exit, holding its files and
		// sockets: an agent started again then finds its API port in use
		// (seen in a chaos run's rolling restart on a loaded machine).
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		return err == nil && len(tasks) > 1
	}
	return true
}

func cmdline(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	return strings.ReplaceAll(string(bytes.TrimRight(b, "\x00")), "\x00", " ")
}

// allPIDs lists the processes on the host, except this one.
func allPIDs() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// nsID identifies a namespace by the device and inode of its nsfs file.
type nsID struct{ dev, ino uint64 }

func nsIDOf(path string) (nsID, bool) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return nsID{}, false
	}
	return nsID{dev: st.Dev, ino: st.Ino}, true
}

// processesInNetns lists the live processes whose network namespace is one
// of the namespaces at paths.
func processesInNetns(paths []string) []int {
	ids := map[nsID]bool{}
	for _, p := range paths {
		if id, ok := nsIDOf(p); ok {
			ids[id] = true
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var pids []int
	for _, pid := range allPIDs() {
		if id, ok := nsIDOf(fmt.Sprintf("/proc/%d/ns/net", pid)); ok && ids[id] && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// dirFlags are the flags through which the lab hands its state dir to the
// processes it starts: agents (--data-dir), the lab's containerd (--address,
// --root, --config), containerd's shims (-address) and the machines'
// systemd-nspawn (--directory).
var dirFlags = map[string]bool{
	"--data-dir": true, "--address": true, "-address": true, "--root": true, "--config": true,
	// systemd-nspawn of a machines lab.
	"--directory": true,
}

// mentionsDir reports whether pid was started by the lab: one of dirFlags
// points under dir. A shell merely reading a log there does not count.
func mentionsDir(pid int, dir string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
	for i, a := range args {
		if flag, val, ok := strings.Cut(a, "="); ok && dirFlags[flag] && strings.HasPrefix(val, dir+"/") {
			return true
		}
		if dirFlags[a] && i+1 < len(args) && strings.HasPrefix(args[i+1], dir+"/") {
			return true
		}
	}
	return false
}

// processesMentioningDir lists the live processes the lab started under dir.
func processesMentioningDir(dir string) []int {
	var pids []int
	for _, pid := range allPIDs() {
		if mentionsDir(pid, dir) && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// stopProcesses sends SIGTERM, waits up to grace for them to go, then sends
// SIGKILL and waits again. It returns an error naming any survivor.
func stopProcesses(ctx context.Context, pids []int, grace time.Duration) error {
	var live []int
	for _, pid := range pids {
		if alive(pid) {
			live = append(live, pid)
		}
	}
	if len(live) == 0 {
		return nil
	}
	for _, pid := range live {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	if waitGone(ctx, live, grace) {
		return nil
	}
	for _, pid := range live {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if waitGone(ctx, live, 10*time.Second) {
		return nil
	}
	var errs []error
	for _, pid := range live {
		if alive(pid) {
			errs = append(errs, fmt.Errorf("process %d (%s) survived SIGKILL", pid, filepath.Base(strings.Fields(cmdline(pid) + " ?")[0])))
		}
	}
	return errors.Join(errs...)
}

// waitGone polls until none of pids is alive, reaping our own children so
// they do not linger as zombies.
func waitGone(ctx context.Context, pids []int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		gone := true
		for _, pid := range pids {
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			if alive(pid) {
				gone = false
			}
		}
		if gone {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
