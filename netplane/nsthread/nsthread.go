// Package nsthread runs work inside a network namespace on an OS thread of
// its own. Network namespaces belong to threads, not processes: the thread
// that enters one is never given back to the Go scheduler, so no other
// goroutine can run in the wrong namespace, and it is never the process's
// main thread, which Go cannot discard and which names the process's
// namespace in /proc/PID/ns/net.
package nsthread

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Run runs fn in the network namespace bind-mounted at path, or in the
// caller's own one when path is "". A process fn starts inherits the
// namespace (and only it: the mount namespace stays the caller's, unlike
// `ip netns exec`).
func Run(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	return OnDoomedThread(func() error {
		ns, err := netns.GetFromPath(path)
		if err != nil {
			return fmt.Errorf("open netns %s: %w", path, err)
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			return fmt.Errorf("enter netns %s: %w", path, err)
		}
		return fn()
	})
}

// RunIn runs fn in the network namespace ns.
func RunIn(ns netns.NsHandle, fn func() error) error {
	return OnDoomedThread(func() error {
		if err := netns.Set(ns); err != nil {
			return fmt.Errorf("enter netns: %w", err)
		}
		return fn()
	})
}

// OnDoomedThread runs fn on a locked OS thread that is discarded
// afterwards, for work that changes the thread's namespaces. Never on the
// process's main thread: Go cannot discard that one and parks it for good,
// still in the namespace fn entered, and /proc/PID/ns/net, which is the
// main thread's, then names that namespace as the whole process's (a test
// process that attached a lab guest that way was once taken for a process
// of the guest and stopped by `shoal lab down`).
func OnDoomedThread(fn func() error) error {
	errc := make(chan error, 1)
	go doomed(fn, errc)
	return <-errc
}

func doomed(fn func() error, errc chan<- error) {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		// Holding the main thread here keeps the retry off it.
		errc <- OnDoomedThread(fn)
		runtime.UnlockOSThread()
		return
	}
	// Never unlocked: the thread ends with the goroutine.
	errc <- fn()
}
