package lab

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// rangeLockPath serialises, host-wide, the step from picking a lab range
// to claiming it with the host link's connected route. Labs under
// different state roots see each other's ranges only through that route,
// so two Ups at once would otherwise both pick the first free range.
const rangeLockPath = "/run/lock/shoal-lab-ranges.lock"

// rangeLock is held from planRanges until the host link has its address.
type rangeLock struct {
	once sync.Once
	fd   int
}

// lockRanges waits for the host-wide range lock.
func lockRanges() (*rangeLock, error) {
	if err := os.MkdirAll("/run/lock", 0o755); err != nil {
		return nil, fmt.Errorf("lock lab ranges: %w", err)
	}
	fd, err := unix.Open(rangeLockPath, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock lab ranges: open %s: %w", rangeLockPath, err)
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock lab ranges: %s: %w", rangeLockPath, err)
	}
	return &rangeLock{fd: fd}, nil
}

// release lets the next Up pick; calling it again does nothing.
func (l *rangeLock) release() {
	l.once.Do(func() { unix.Close(l.fd) })
}
