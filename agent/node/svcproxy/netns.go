package svcproxy

import (
	"context"
	"fmt"

	"sigs.k8s.io/knftables"

	"github.com/shoal-dev/shoal/netplane/nsthread"
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

func (n *nsNFTables) do(fn func() error) error { return nsthread.Run(n.path, fn) }
