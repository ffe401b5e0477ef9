package podruntime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"golang.org/x/sys/unix"
)

// The pod's sandbox is a directory holding bind mounts of an IPC and a UTS
// namespace (pinned the way `ip netns add` pins a netns) plus the hostname
// and hosts files its containers see. It outlives every container of the
// pod, so no pause process is needed.
var sandboxNamespaces = []string{"ipc", "uts"}

func (r *Runtime) sandboxDir(podUID string) string {
	return filepath.Join(sandboxesDir(r.stateDir), podUID)
}

func (r *Runtime) sandboxNSPath(podUID, ns string) string {
	return filepath.Join(r.sandboxDir(podUID), ns)
}

// ensureSandbox creates the pod's sandbox unless it is already in place
// (after an agent restart it is adopted as it is).
func (r *Runtime) ensureSandbox(podUID, hostname string) error {
	dir := r.sandboxDir(podUID)
	if sandboxComplete(dir) {
		return nil
	}
	// A half-made sandbox (crash during creation) is rebuilt from scratch.
	if err := removeSandboxDir(dir); err != nil {
		return fmt.Errorf("clear partial sandbox of pod %s: %w", podUID, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create sandbox dir of pod %s: %w", podUID, err)
	}
	files := map[string]string{
		"hostname": hostname + "\n",
		"hosts":    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t" + hostname + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("write sandbox %s of pod %s: %w", name, podUID, err)
		}
	}
	if err := pinNamespaces(dir, hostname); err != nil {
		_ = removeSandboxDir(dir)
		return fmt.Errorf("create sandbox of pod %s: %w", podUID, err)
	}
	r.log.Info("sandbox created", "pod", podUID, "hostname", hostname)
	return nil
}

// pinNamespaces unshares a new IPC and UTS namespace on a dedicated OS
// thread, names it, and bind-mounts both onto files in dir.
func pinNamespaces(dir, hostname string) error {
	errc := make(chan error, 1)
	go func() {
		// The thread is never unlocked: it now lives in the pod's
		// namespaces, and a goroutine that exits while locked makes the Go
		// runtime throw its thread away instead of reusing it.
		runtime.LockOSThread()
		errc <- pinOnThisThread(dir, hostname)
	}()
	return <-errc
}

func pinOnThisThread(dir, hostname string) error {
	if err := unix.Unshare(unix.CLONE_NEWIPC | unix.CLONE_NEWUTS); err != nil {
		return fmt.Errorf("unshare ipc+uts: %w", err)
	}
	if err := unix.Sethostname([]byte(hostname)); err != nil {
		return fmt.Errorf("set hostname %q: %w", hostname, err)
	}
	tid := unix.Gettid()
	for _, ns := range sandboxNamespaces {
		target := filepath.Join(dir, ns)
		f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
		if err != nil {
			return fmt.Errorf("create mount point %s: %w", target, err)
		}
		f.Close()
		src := fmt.Sprintf("/proc/self/task/%d/ns/%s", tid, ns)
		if err := unix.Mount(src, target, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %s to %s: %w", src, target, err)
		}
	}
	return nil
}

// sandboxComplete reports whether every namespace of the sandbox is pinned.
func sandboxComplete(dir string) bool {
	for _, ns := range sandboxNamespaces {
		if !isNSMount(filepath.Join(dir, ns)) {
			return false
		}
	}
	return true
}

func isNSMount(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}

// removeSandboxDir unmounts the pinned namespaces (they vanish once no
// container uses them either) and removes the directory; missing is fine.
func removeSandboxDir(dir string) error {
	if err := stopPIDHolder(dir); err != nil { // pidns.go
		return err
	}
	for _, ns := range append(slices.Clone(sandboxNamespaces), optionalSandboxNamespaces...) {
		p := filepath.Join(dir, ns)
		// Bound the loop: the same file may be mounted over more than once.
		for i := 0; i < 8 && isNSMount(p); i++ {
			if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
				if errors.Is(err, unix.EINVAL) {
					break
				}
				return fmt.Errorf("unmount %s: %w", p, err)
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}
