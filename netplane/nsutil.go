package netplane

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/shoal-dev/shoal/netplane/netnsdir"
	"github.com/shoal-dev/shoal/netplane/nsthread"
)

// nsfsMagic is the statfs type of a bind-mounted namespace file.
const nsfsMagic = 0x6e736673

// isNetnsMount reports whether path is a live bind-mounted namespace.
func isNetnsMount(path string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return false, nil
		}
		return false, fmt.Errorf("statfs %s: %w", path, err)
	}
	return int64(st.Type) == nsfsMagic, nil
}

// createNamedNetns makes a new network namespace bind-mounted at path, or
// keeps the one already there. A stale plain file (a failed earlier attempt)
// is replaced.
func createNamedNetns(path string) (created bool, err error) {
	live, err := isNetnsMount(path)
	if err != nil {
		return false, err
	}
	if live {
		return false, nil
	}
	// Before the first namespace is mounted there: see netnsdir.
	if err := netnsdir.Prepare(NetnsDir); err != nil {
		return false, err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("remove stale %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return false, fmt.Errorf("create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("close %s: %w", path, err)
	}

	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("get current netns: %w", err)
			return
		}
		defer orig.Close()
		// From here on, any failure leaves the thread locked so Go ends it
		// with this goroutine instead of reusing it in the new namespace.
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare netns: %w", err)
			return
		}
		src := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
		merr := unix.Mount(src, path, "none", unix.MS_BIND, "")
		if merr != nil {
			merr = fmt.Errorf("bind-mount netns at %s: %w", path, merr)
		}
		if err := netns.Set(orig); err != nil {
			errc <- errors.Join(merr, fmt.Errorf("return to original netns: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- merr
	}()
	if err := <-errc; err != nil {
		_ = os.Remove(path)
		return false, err
	}
	return true, nil
}

// deleteNamedNetns unmounts every mount stacked on path and removes it; a
// missing or unmounted path is not an error. The namespace itself lives on
// while a process is in it.
func deleteNamedNetns(path string) error {
	return netnsdir.Remove(path)
}

// writeSysctl writes value to /proc/sys/<key> in ns.
func writeSysctl(ns netns.NsHandle, kv ...string) error {
	if len(kv)%2 != 0 {
		return fmt.Errorf("writeSysctl: odd key/value list")
	}
	return nsthread.RunIn(ns, func() error {
		for i := 0; i < len(kv); i += 2 {
			path := "/proc/sys/" + kv[i]
			if err := os.WriteFile(path, []byte(kv[i+1]), 0o644); err != nil {
				return fmt.Errorf("sysctl %s=%s: %w", kv[i], kv[i+1], err)
			}
		}
		return nil
	})
}
