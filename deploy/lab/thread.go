package lab

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// inNetns runs f on a fresh OS thread that has entered the network namespace
// at path. The thread is never unlocked, so Go discards it when f returns
// instead of letting other goroutines run in the wrong namespace. A process
// started by f inherits the namespace (and only it: the mount namespace
// stays the host's, unlike `ip netns exec`).
func inNetns(path string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		ns, err := netns.GetFromPath(path)
		if err != nil {
			errc <- fmt.Errorf("open netns %s: %w", path, err)
			return
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			errc <- fmt.Errorf("enter netns %s: %w", path, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// onDoomedThread runs f on a locked OS thread that is discarded afterwards,
// for work that changes the thread's namespaces.
func onDoomedThread(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- f()
	}()
	return <-errc
}
