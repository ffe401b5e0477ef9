package netplane

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// handleAt opens a netlink handle bound to ns; the caller closes it.
func handleAt(ns netns.NsHandle, what string) (*netlink.Handle, error) {
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("netlink handle in %s netns: %w", what, err)
	}
	return h, nil
}

// retryDump repeats a netlink dump the kernel interrupted because the table
// changed under it; the partial result of an interrupted dump is not safe to
// act on (SyncPeerRoutes deletes what it does not see).
func retryDump[T any](dump func() (T, error)) (T, error) {
	var (
		v   T
		err error
	)
	for range 5 {
		v, err = dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return v, err
		}
	}
	return v, err
}

func isNotFound(err error) bool {
	var lnf netlink.LinkNotFoundError
	return errors.As(err, &lnf)
}
