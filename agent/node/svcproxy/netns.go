package svcproxy

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
	"sigs.k8s.io/knftables"
)

// nftables is the part of knftables the proxy uses; knftables.Fake is its
// in-memory twin for unit tests.
type nftables interface {
	NewTransaction() *knftables.Transaction
	Run(ctx context.Context, tx *knftables.Transaction) error
}

// nsNFTables runs every knftables call on an OS thread switched into a
// network namespace: knftables execs nft, and a child process starts in the
// namespace of the thread that forks it.
type nsNFTables struct {
	path  string // the namespace file; "" means the caller's own namespace
	inner knftables.Interface
}

// newNSNFTables opens the table in the namespace at path ("" for the
// caller's own).
func newNSNFTables(path, table string) (*nsNFTables, error) {
	n := &nsNFTables{path: path}
	err := n.do(func() error {
		var err error
		n.inner, err = knftables.New(knftables.IPv4Family, table)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open nftables table ip %s in netns %q: %w", table, path, err)
	}
	return n, nil
}

func (n *nsNFTables) NewTransaction() *knftables.Transaction { return n.inner.NewTransaction() }

func (n *nsNFTables) Run(ctx context.Context, tx *knftables.Transaction) error {
	return n.do(func() error { return n.inner.Run(ctx, tx) })
}

func (n *nsNFTables) do(fn func() error) error { return inNetns(n.path, fn) }

// inNetns runs fn in the namespace at path ("" for the caller's own), on a
// fresh goroutine so the caller's thread is never touched. If switching back
// fails the thread stays locked and Go ends it with the goroutine rather
// than reuse it in the wrong namespace.
func inNetns(path string, fn func() error) error {
	if path == "" {
		return fn()
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
		target, err := netns.GetFromPath(path)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open netns %s: %w", path, err)
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter netns %s: %w", path, err)
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("return from netns %s: %w", path, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
