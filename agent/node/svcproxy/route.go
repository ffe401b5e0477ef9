package svcproxy

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// EnsureRoute gives a node namespace the route its own connections to a
// ClusterIP need: the route lookup of a locally made connection happens
// before the output hook DNATs it, so the service range must be routable
// (pods' traffic is DNATed in prerouting and needs nothing). The route is
// cidr on the link holding src, with src as the source address, in the
// namespace at nsPath ("" for the caller's own).
//
// It adds nothing (and says so with added == false) when the namespace
// already routes the range, by a default route or any route covering it:
// a machine with a default route needs no route of shoal's. It never adds
// a default route: cidr must be a proper prefix.
func EnsureRoute(nsPath string, cidr netip.Prefix, src netip.Addr) (added bool, err error) {
	if !cidr.IsValid() || !cidr.Addr().Is4() || cidr.Bits() < 8 {
		return false, fmt.Errorf("service route: range %s: must be an IPv4 prefix of /8 or longer", cidr)
	}
	if !src.Is4() {
		return false, fmt.Errorf("service route: source %s: must be an IPv4 address", src)
	}
	cidr = cidr.Masked()
	h, err := handleAt(nsPath)
	if err != nil {
		return false, err
	}
	defer h.Close()
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return false, fmt.Errorf("service route: list routes: %w", err)
	}
	var link netlink.Link
	for _, r := range routes {
		if r.Table != 0 && r.Table != 254 { // main table only
			continue
		}
		if r.Dst == nil {
			return false, nil // a default route carries it
		}
		if p, ok := prefixOf(r.Dst); ok && p.Bits() <= cidr.Bits() && p.Contains(cidr.Addr()) {
			if p == cidr && r.Src != nil && r.Src.Equal(net.IP(src.AsSlice())) {
				return false, nil // ours, from an earlier agent
			}
			if p != cidr {
				return false, nil
			}
		}
	}
	links, err := h.LinkList()
	if err != nil {
		return false, fmt.Errorf("service route: list links: %w", err)
	}
	for _, l := range links {
		addrs, err := h.AddrList(l, netlink.FAMILY_V4)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok && ip == src {
				link = l
			}
		}
	}
	if link == nil {
		return false, fmt.Errorf("service route: no link holds the node address %s", src)
	}
	route := &netlink.Route{
		LinkIndex: link.Attrs().Index,
		Dst:       &net.IPNet{IP: cidr.Addr().AsSlice(), Mask: net.CIDRMask(cidr.Bits(), 32)},
		Src:       src.AsSlice(),
		Scope:     netlink.SCOPE_LINK,
	}
	if err := h.RouteReplace(route); err != nil {
		return false, fmt.Errorf("service route: %s dev %s src %s: %w", cidr, link.Attrs().Name, src, err)
	}
	return true, nil
}

func handleAt(nsPath string) (*netlink.Handle, error) {
	if nsPath == "" {
		h, err := netlink.NewHandle()
		if err != nil {
			return nil, fmt.Errorf("service route: netlink: %w", err)
		}
		return h, nil
	}
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return nil, fmt.Errorf("service route: open netns %s: %w", nsPath, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("service route: netlink in %s: %w", nsPath, err)
	}
	return h, nil
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	ip, ok := netip.AddrFromSlice(n.IP.To4())
	if !ok {
		return netip.Prefix{}, false
	}
	ones, bits := n.Mask.Size()
	if bits != 32 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(ip, ones), true
}
