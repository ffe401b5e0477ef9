// Package netnsdir owns the directory where named network namespaces are
// bind-mounted (/run/netns, as with `ip netns`). It is a leaf that imports
// nothing of shoal's, so that both netplane (pod namespaces) and deploy/lab
// (lab and node namespaces) prepare and clean that directory the same way.
//
// The directory must be a shared mount point before the first namespace is
// mounted in it. Made one later, by binding the directory onto itself
// recursively (as iproute2 does), it takes a copy of every namespace
// mounted there so far and hides the originals under itself, where no path
// reaches them: unmounting the visible copy then leaves the file busy.
package netnsdir

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Dir is where named network namespaces live, the place iproute2 uses.
const Dir = "/run/netns"

// maxStack bounds how many mounts Remove takes off one path.
const maxStack = 64

// Prepare makes dir a shared mount point, creating it if needed, the way
// iproute2's netns_init does: make it shared, and when that fails with
// EINVAL (not a mount point yet), bind it onto itself and try once more.
// Shared, a namespace mounted later also appears in mount namespaces copied
// from this one earlier (containerd's shims, `ip netns exec`), and an
// unmount reaches every copy. Call it before mounting any namespace in dir.
// Calling it again is cheap and changes nothing. Concurrent callers, in
// this process or others, are serialised by a lock on dir itself, so two
// first calls never stack two binds.
func Prepare(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(fd)
	// The bind shows the same directory inode, so the lock holds across it.
	if err := flock(fd); err != nil {
		return fmt.Errorf("lock %s: %w", dir, err)
	}
	bound := false
	for {
		err := unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, "")
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EINVAL) || bound {
			return fmt.Errorf("make %s a shared mount: %w", dir, err)
		}
		if err := unix.Mount(dir, dir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s onto itself: %w", dir, err)
		}
		bound = true
	}
}

func flock(fd int) error {
	for {
		err := unix.Flock(fd, unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// Remove unmounts every namespace mount stacked on path, then removes the
// file. A missing or unmounted path is fine. A copy hidden under a later
// bind of the directory (see the package comment) cannot be reached by any
// path; the error then says so.
func Remove(path string) error {
	for i := 0; ; i++ {
		err := unix.Unmount(path, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			break // no mount (left) on path
		}
		if err != nil {
			return fmt.Errorf("unmount %s: %w", path, err)
		}
		if i == maxStack {
			return fmt.Errorf("unmount %s: still mounted after %d unmounts", path, maxStack)
		}
	}
	err := os.Remove(path)
	switch {
	case err == nil, errors.Is(err, os.ErrNotExist):
		return nil
	case errors.Is(err, unix.EBUSY):
		return fmt.Errorf("remove %s: %w (a mount of it is hidden under a bind of its directory made after it; "+
			"it goes when the directory's bind is unmounted or the host reboots)", path, err)
	default:
		return fmt.Errorf("remove %s: %w", path, err)
	}
}
