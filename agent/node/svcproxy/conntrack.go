package svcproxy

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/shoal-dev/shoal/netplane/nsthread"
)

// UDP has no connection to end: conntrack keeps a client's flow DNATed to
// the endpoint it first reached for as long as datagrams keep coming, so
// a client that keeps one socket (a resolver, a metrics sender) would
// talk to a removed endpoint forever. After a Sync that removes a UDP
// endpoint or service port, the proxy deletes those flows from the node
// namespace's conntrack table, as kube-proxy does; the next datagram is a
// new flow and goes through the current rules. TCP is left alone: a
// connection to a gone endpoint is reset or times out, and deleting a live
// one to an endpoint that is only not ready would cut it.

// staleFlow selects the UDP conntrack entries of one service port: sent to
// dst:port (dst zero: to any address, a nodePort) and, when endpoint is
// set, only those translated to that endpoint.
type staleFlow struct {
	dst      netip.Addr
	port     uint16
	endpoint netip.Addr
}

func (f staleFlow) String() string {
	dst := "*"
	if f.dst.IsValid() {
		dst = f.dst.String()
	}
	if f.endpoint.IsValid() {
		return fmt.Sprintf("udp %s:%d->%s", dst, f.port, f.endpoint)
	}
	return fmt.Sprintf("udp %s:%d", dst, f.port)
}

// conntracker deletes flows from one namespace's conntrack table.
type conntracker interface {
	DeleteUDP(ctx context.Context, flows []staleFlow) (uint, error)
}

// udpPort is one proxied UDP service port as staleFlows compares them.
type udpPort struct {
	clusterIP netip.Addr
	port      Port
	endpoints map[netip.Addr]bool
}

func udpPorts(svcs []Service) map[string]udpPort {
	out := map[string]udpPort{}
	for i := range svcs {
		s := &svcs[i]
		if s.headless() {
			continue
		}
		for _, p := range s.Ports {
			if p.Protocol != UDP {
				continue
			}
			eps := make(map[netip.Addr]bool, len(s.Endpoints))
			for _, ep := range s.Endpoints {
				if ep.targetPort(p) != 0 {
					eps[ep.IP] = true
				}
			}
			out[s.key()+"/"+p.Name] = udpPort{clusterIP: s.ClusterIP, port: p, endpoints: eps}
		}
	}
	return out
}

// staleFlows is what to delete once the rules moved from old to new: the
// flows of a UDP service port that went (or whose ClusterIP, port or
// nodePort changed), the flows to each endpoint a port lost, and the
// flows to a port that is new or had no endpoint and now has some (sent
// while nothing served it, they were never translated).
func staleFlows(old, new []Service) []staleFlow {
	was, now := udpPorts(old), udpPorts(new)
	var out []staleFlow
	for key, o := range was {
		n, ok := now[key]
		if !ok || n.clusterIP != o.clusterIP || n.port.Port != o.port.Port {
			out = append(out, staleFlow{dst: o.clusterIP, port: o.port.Port})
			ok = false
		}
		if o.port.NodePort != 0 && (!ok || n.port.NodePort != o.port.NodePort) {
			out = append(out, staleFlow{port: o.port.NodePort})
		}
		if !ok {
			continue
		}
		for ip := range o.endpoints {
			if n.endpoints[ip] {
				continue
			}
			out = append(out, staleFlow{dst: o.clusterIP, port: o.port.Port, endpoint: ip})
			if o.port.NodePort != 0 && n.port.NodePort == o.port.NodePort {
				out = append(out, staleFlow{port: o.port.NodePort, endpoint: ip})
			}
		}
	}
	for key, n := range now {
		o, ok := was[key]
		if len(n.endpoints) > 0 && (!ok || len(o.endpoints) == 0 || o.clusterIP != n.clusterIP || o.port.Port != n.port.Port) {
			out = append(out, staleFlow{dst: n.clusterIP, port: n.port.Port})
		}
	}
	return out
}

// nsConntrack deletes flows through a netlink handle made in the
// namespace at path ("" for the caller's own), kept for the next change
// (closing a netfilter netlink socket waits for an RCU grace period, see
// netlinkfast.go) and dropped after a failure. Its caller serializes its
// calls (the Proxy's lock).
type nsConntrack struct {
	path string
	h    *netlink.Handle
}

func (c *nsConntrack) handle() (*netlink.Handle, error) {
	if c.h != nil {
		return c.h, nil
	}
	err := nsthread.Run(c.path, func() error {
		h, err := netlink.NewHandle(unix.NETLINK_NETFILTER)
		c.h = h
		return err
	})
	if err != nil {
		c.h = nil
		return nil, err
	}
	return c.h, nil
}

// Close deletes the kept handle, if any.
func (c *nsConntrack) Close() {
	if c.h != nil {
		c.h.Close()
		c.h = nil
	}
}

func (c *nsConntrack) DeleteUDP(ctx context.Context, flows []staleFlow) (uint, error) {
	filters := make([]netlink.CustomConntrackFilter, 0, len(flows))
	for _, f := range flows {
		cf := &netlink.ConntrackFilter{}
		// AddPort needs the protocol first; errors only on a filter set twice.
		if err := cf.AddProtocol(unix.IPPROTO_UDP); err != nil {
			return 0, err
		}
		if err := cf.AddPort(netlink.ConntrackOrigDstPort, f.port); err != nil {
			return 0, err
		}
		if f.dst.IsValid() {
			if err := cf.AddIP(netlink.ConntrackOrigDstIP, f.dst.AsSlice()); err != nil {
				return 0, err
			}
		}
		if f.endpoint.IsValid() {
			if err := cf.AddIP(netlink.ConntrackReplySrcIP, f.endpoint.AsSlice()); err != nil {
				return 0, err
			}
		}
		filters = append(filters, cf)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	h, err := c.handle()
	if err == nil {
		var n uint
		if n, err = h.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, filters...); err == nil {
			return n, nil
		}
		h.Close()
		c.h = nil
	}
	return 0, fmt.Errorf("delete %d conntrack filters in netns %q: %w", len(filters), c.path, err)
}
