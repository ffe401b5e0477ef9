package lab

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// hostRoute is one route of the host's main table, kept for error messages.
type hostRoute struct {
	Dst  netip.Prefix
	Desc string
}

// hostRoutes lists the IPv4 destinations in the host's main routing table,
// without default routes (every range overlaps those).
func hostRoutes() ([]hostRoute, error) {
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_V4,
		&netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("list host routes: %w", err)
	}
	var out []hostRoute
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		ones, _ := r.Dst.Mask.Size()
		if ones == 0 {
			continue
		}
		addr, ok := netip.AddrFromSlice(r.Dst.IP.To4())
		if !ok {
			continue
		}
		dev := ""
		if link, err := netlink.LinkByIndex(r.LinkIndex); err == nil {
			dev = " dev " + link.Attrs().Name
		}
		p := netip.PrefixFrom(addr, ones).Masked()
		out = append(out, hostRoute{Dst: p, Desc: p.String() + dev})
	}
	return out, nil
}

// checkOverlap refuses a range that overlaps a host route, naming both.
func checkOverlap(what string, p netip.Prefix, routes []hostRoute) error {
	for _, r := range routes {
		if r.Dst.Overlaps(p) {
			return fmt.Errorf("%s %s overlaps host route %s: pick another range", what, p, r.Desc)
		}
	}
	return nil
}

// chooseLabCIDR returns the first 10.250.X.0/24 that overlaps no host route,
// no range of another lab and not the pod range.
func chooseLabCIDR(routes []hostRoute, taken []netip.Prefix, pod netip.Prefix) (netip.Prefix, error) {
	for x := 0; x < 256; x++ {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 250, byte(x), 0}), 24)
		if p.Overlaps(pod) || checkOverlap("", p, routes) != nil {
			continue
		}
		free := true
		for _, t := range taken {
			if t.Overlaps(p) {
				free = false
				break
			}
		}
		if free {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free lab range in 10.250.0.0/16: pass a lab CIDR")
}

// addrPlan gives the host-side address and node K's address (1-based) in a
// lab range: .1 for the host, .10+K for nodes.
type addrPlan struct {
	prefix netip.Prefix
}

func newAddrPlan(p netip.Prefix, nodes int) (addrPlan, error) {
	if !p.Addr().Is4() {
		return addrPlan{}, fmt.Errorf("lab CIDR %s: want IPv4", p)
	}
	if p.Bits() > 30 {
		return addrPlan{}, fmt.Errorf("lab CIDR %s: too small", p)
	}
	plan := addrPlan{prefix: p.Masked()}
	last := plan.node(nodes)
	if !plan.prefix.Contains(last) || last == lastAddr(plan.prefix) {
		return addrPlan{}, fmt.Errorf("lab CIDR %s: too small for %d nodes (node addresses are .11 up)", p, nodes)
	}
	return plan, nil
}

func (a addrPlan) host() netip.Addr { return offset(a.prefix.Addr(), 1) }

func (a addrPlan) node(k int) netip.Addr { return offset(a.prefix.Addr(), 10+k) }

func (a addrPlan) hostPrefix() netip.Prefix { return netip.PrefixFrom(a.host(), a.prefix.Bits()) }

func (a addrPlan) nodePrefix(k int) netip.Prefix {
	return netip.PrefixFrom(a.node(k), a.prefix.Bits())
}

func offset(a netip.Addr, n int) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func lastAddr(p netip.Prefix) netip.Addr {
	return offset(p.Addr(), 1<<(32-p.Bits())-1)
}
