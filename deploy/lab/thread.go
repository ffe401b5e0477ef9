package lab

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// inNetns runs f on a fresh OS thread that has entered the network namespace
// at path. The thread is never unlocked, so Go discards it when f returns
// instead of letting other goroutines run in the wrong namespace. A process
// started by f inherits the namespace (and only it: the mount namespace
// stays the host's, unlike `ip netns exec`).
func inNetns(path string, f func() error) error {
	return onDoomedThread(func() error {
		ns, err := netns.GetFromPath(path)
		if err != nil {
			return fmt.Errorf("open netns %s: %w", path, err)
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			return fmt.Errorf("enter netns %s: %w", path, err)
		}
		return f()
	})
}

// onDoomedThread runs f on a locked OS thread that is discarded afterwards,
// for work that changes the thread's namespaces. Never on the process's
// main thread: Go cannot discard that one and parks it for good, still in
// the namespace f entered, and /proc/PID/ns/net, which is the main
// thread's, then names that namespace as the whole process's. A test
// process that attached a lab guest that way was taken for a process of
// the guest and stopped by `shoal lab down` (seen once in CI).
func onDoomedThread(f func() error) error {
	errc := make(chan error, 1)
	go doomed(f, errc)
	return <-errc
}

func doomed(f func() error, errc chan<- error) {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		// Holding the main thread here keeps the retry off it.
		errc <- onDoomedThread(f)
		runtime.UnlockOSThread()
		return
	}
	errc <- f()
}
