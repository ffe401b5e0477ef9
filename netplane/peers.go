package netplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Peer is another node: its pod block and its node address, which must be
// on a link this node shares (routing is on-link, no tunnels).
type Peer struct {
	Block *net.IPNet
	Via   net.IP
}

// SyncPeerRoutes makes the node's routes marked ProtoPeer exactly
// "Block via Via" for each peer: it replaces changed ones, adds missing ones
// and deletes the rest. Routes made by anyone else are never touched. A bad
// peer does not stop the others; all failures are returned joined.
func (p *Plane) SyncPeerRoutes(ctx context.Context, peers []Peer) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sync peer routes: %w", err)
	}
	h, err := handleAt(p.node, "node")
	if err != nil {
		return fmt.Errorf("sync peer routes: %w", err)
	}
	defer h.Close()

	var errs []error
	want := make(map[string]bool, len(peers))
	for _, peer := range peers {
		r, err := peerRoute(h, peer)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		key := r.Dst.String()
		if want[key] {
			errs = append(errs, fmt.Errorf("peer block %s listed twice", key))
			continue
		}
		want[key] = true
		if err := h.RouteReplace(r); err != nil {
			errs = append(errs, fmt.Errorf("route %s via %s: %w", key, peer.Via, err))
		}
	}

	have, err := retryDump(func() ([]netlink.Route, error) {
		return h.RouteListFiltered(unix.AF_INET,
			&netlink.Route{Protocol: ProtoPeer, Table: unix.RT_TABLE_MAIN},
			netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("list peer routes: %w", err))
		return fmt.Errorf("sync peer routes: %w", errors.Join(errs...))
	}
	for _, r := range have {
		if r.Dst != nil && want[r.Dst.String()] {
			continue
		}
		if err := h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("delete stale peer route %v: %w", r.Dst, err))
			continue
		}
		p.log.Info("removed stale peer route", "block", fmt.Sprint(r.Dst), "via", fmt.Sprint(r.Gw))
	}
	if len(errs) > 0 {
		return fmt.Errorf("sync peer routes: %w", errors.Join(errs...))
	}
	return nil
}

// peerRoute builds "Block via Via onlink dev <uplink>", the uplink being
// whatever link the node already uses to reach Via directly.
func peerRoute(h *netlink.Handle, peer Peer) (*netlink.Route, error) {
	if peer.Block == nil || peer.Block.IP.To4() == nil {
		return nil, fmt.Errorf("peer block %v: %w", peer.Block, errNotIPv4)
	}
	via := peer.Via.To4()
	if via == nil {
		return nil, fmt.Errorf("peer %s via %v: %w", peer.Block, peer.Via, errNotIPv4)
	}
	block := &net.IPNet{IP: peer.Block.IP.To4().Mask(peer.Block.Mask), Mask: peer.Block.Mask}
	if ones, bits := block.Mask.Size(); bits != 32 || ones == 0 {
		return nil, fmt.Errorf("peer block %s: want an IPv4 prefix longer than /0", peer.Block)
	}
	got, err := h.RouteGet(via)
	if err != nil {
		return nil, fmt.Errorf("peer %s: route to node address %s: %w", block, via, err)
	}
	if len(got) == 0 {
		return nil, fmt.Errorf("peer %s: no route to node address %s", block, via)
	}
	up := got[0]
	switch {
	case up.Type == unix.RTN_LOCAL:
		return nil, fmt.Errorf("peer %s: node address %s is this node", block, via)
	case up.Gw != nil:
		return nil, fmt.Errorf("peer %s: node address %s is behind gateway %s, not on a shared link", block, via, up.Gw)
	case up.LinkIndex == 0:
		return nil, fmt.Errorf("peer %s: no link reaches node address %s", block, via)
	}
	if l, err := h.LinkByIndex(up.LinkIndex); err == nil && strings.HasPrefix(l.Attrs().Name, hostIfPrefix) {
		return nil, fmt.Errorf("peer %s: node address %s routes into pod veth %s", block, via, l.Attrs().Name)
	}
	return &netlink.Route{
		Dst:       block,
		Gw:        via,
		LinkIndex: up.LinkIndex,
		Flags:     int(netlink.FLAG_ONLINK),
		Protocol:  ProtoPeer,
		Table:     unix.RT_TABLE_MAIN,
	}, nil
}
