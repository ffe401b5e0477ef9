package netplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// SetupPod gives podID a network namespace whose eth0 holds ip/32 and
// routes everything via the node, and routes ip/32 from the node to it. It
// converges whatever it finds (a rerun, or a half-made pod from a crash) and
// returns the namespace path for the runtime to join.
func (p *Plane) SetupPod(ctx context.Context, podID string, ip net.IP) (netnsPath string, err error) {
	if err := validatePodID(podID); err != nil {
		return "", fmt.Errorf("setup pod: %w", err)
	}
	ip4 := ip.To4()
	if ip4 == nil {
		return "", fmt.Errorf("setup pod %s: ip %v: %w", podID, ip, errNotIPv4)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("setup pod %s: %w", podID, err)
	}
	p.podMu.Lock()
	defer p.podMu.Unlock()

	holders, err := p.heldBy(ip4, podID) // pod_ips.go
	if err != nil {
		return "", fmt.Errorf("setup pod %s: %w", podID, err)
	}
	if len(holders) > 0 {
		return "", fmt.Errorf("setup pod %s: IP %s: held by pod network %s: %w", podID, ip4, strings.Join(holders, ", "), ErrIPHeld)
	}
	path := p.NetnsPath(podID)
	created, err := createNamedNetns(path)
	if err != nil {
		p.holders = nil // read again: what this left is not known
		return "", fmt.Errorf("setup pod %s: %w", podID, err)
	}
	if err := p.wirePod(ctx, podID, path, ip4); err != nil {
		p.holders = nil
		if created {
			// A namespace made by this call and left half-wired would look
			// like a pod to ListPods; remove it so a retry starts clean.
			if cerr := p.teardown(podID); cerr != nil {
				err = errors.Join(err, fmt.Errorf("roll back: %w", cerr))
			}
		}
		return "", fmt.Errorf("setup pod %s: %w", podID, err)
	}
	p.holds(podID, ip4)
	p.log.Debug("pod wired", "pod", podID, "ip", ip4.String(), "netns", path, "hostIf", p.HostIfName(podID), "created", created)
	return path, nil
}

func (p *Plane) wirePod(ctx context.Context, podID, path string, ip net.IP) error {
	podNs, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", path, err)
	}
	defer podNs.Close()
	nodeH, err := handleAt(p.node, "node")
	if err != nil {
		return err
	}
	defer nodeH.Close()
	podH, err := handleAt(podNs, "pod")
	if err != nil {
		return err
	}
	defer podH.Close()

	lo, err := podH.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find pod loopback: %w", err)
	}
	if err := podH.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set pod loopback up: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	hostName := p.HostIfName(podID)
	host, eth0, err := p.ensureVeth(nodeH, podH, podNs, hostName)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	if err := writeSysctl(p.node,
		"net/ipv4/conf/"+hostName+"/proxy_arp", "1",
		"net/ipv4/conf/"+hostName+"/rp_filter", "2",
	); err != nil {
		return fmt.Errorf("node side %s: %w", hostName, err)
	}
	if err := writeSysctl(podNs, "net/ipv4/conf/"+PodIfName+"/rp_filter", "2"); err != nil {
		return fmt.Errorf("pod side: %w", err)
	}

	if err := configurePodSide(podH, eth0, ip, host.Attrs().HardwareAddr); err != nil {
		return err
	}
	if err := configureNodeSide(nodeH, host, ip); err != nil {
		return err
	}
	return nil
}

// ensureVeth returns the pod's veth pair, creating it or replacing a pair
// that is half there or not joined to each other.
func (p *Plane) ensureVeth(nodeH, podH *netlink.Handle, podNs netns.NsHandle, hostName string) (host, eth0 netlink.Link, err error) {
	host, herr := nodeH.LinkByName(hostName)
	eth0, perr := podH.LinkByName(PodIfName)
	for _, e := range []error{herr, perr} {
		if e != nil && !isNotFound(e) {
			return nil, nil, fmt.Errorf("look up veth %s: %w", hostName, e)
		}
	}
	if herr == nil && perr == nil && vethPeers(host, eth0) {
		if err := setMTU(nodeH, host, p.mtu); err != nil {
			return nil, nil, err
		}
		if err := setMTU(podH, eth0, p.mtu); err != nil {
			return nil, nil, err
		}
		return host, eth0, nil
	}
	if herr == nil {
		if err := nodeH.LinkDel(host); err != nil && !isNotFound(err) {
			return nil, nil, fmt.Errorf("delete unmatched %s: %w", hostName, err)
		}
	}
	if perr == nil {
		if err := podH.LinkDel(eth0); err != nil && !isNotFound(err) {
			return nil, nil, fmt.Errorf("delete unmatched pod %s: %w", PodIfName, err)
		}
	}
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: hostName, MTU: p.mtu},
		PeerName:      PodIfName,
		PeerNamespace: netlink.NsFd(int(podNs)),
		PeerMTU:       uint32(p.mtu),
	}
	if err := nodeH.LinkAdd(veth); err != nil {
		return nil, nil, fmt.Errorf("create veth %s/%s: %w", hostName, PodIfName, err)
	}
	if host, err = nodeH.LinkByName(hostName); err != nil {
		return nil, nil, fmt.Errorf("find new veth %s: %w", hostName, err)
	}
	if eth0, err = podH.LinkByName(PodIfName); err != nil {
		return nil, nil, fmt.Errorf("find new pod %s: %w", PodIfName, err)
	}
	return host, eth0, nil
}

// vethPeers reports whether a and b are the two ends of one veth pair; the
// kernel reports each end's peer ifindex as its link (IFLA_LINK).
func vethPeers(a, b netlink.Link) bool {
	if a.Type() != "veth" || b.Type() != "veth" {
		return false
	}
	return a.Attrs().ParentIndex == b.Attrs().Index && b.Attrs().ParentIndex == a.Attrs().Index
}

func setMTU(h *netlink.Handle, l netlink.Link, mtu int) error {
	if l.Attrs().MTU == mtu {
		return nil
	}
	if err := h.LinkSetMTU(l, mtu); err != nil {
		return fmt.Errorf("set %s mtu %d: %w", l.Attrs().Name, mtu, err)
	}
	return nil
}

func configurePodSide(h *netlink.Handle, eth0 netlink.Link, ip net.IP, gwMAC net.HardwareAddr) error {
	want := &netlink.Addr{IPNet: &net.IPNet{IP: ip, Mask: net.CIDRMask(32, 32)}}
	addrs, err := h.AddrList(eth0, unix.AF_INET)
	if err != nil {
		return fmt.Errorf("list pod addresses: %w", err)
	}
	for _, a := range addrs {
		if !a.IPNet.IP.Equal(ip) || a.IPNet.Mask.String() != want.IPNet.Mask.String() {
			if err := h.AddrDel(eth0, &a); err != nil {
				return fmt.Errorf("remove stale pod address %s: %w", a.IPNet, err)
			}
		}
	}
	if err := h.AddrReplace(eth0, want); err != nil {
		return fmt.Errorf("set pod address %s: %w", want.IPNet, err)
	}
	if err := h.LinkSetUp(eth0); err != nil {
		return fmt.Errorf("set pod %s up: %w", PodIfName, err)
	}
	gw := gatewayIP()
	// Pin the gateway's MAC: proxy ARP answers only when the node has a
	// route for 169.254.1.1 through another interface, which a lab node
	// (no default route) lacks.
	if err := h.NeighSet(&netlink.Neigh{
		LinkIndex:    eth0.Attrs().Index,
		Family:       unix.AF_INET,
		State:        netlink.NUD_PERMANENT,
		IP:           gw,
		HardwareAddr: gwMAC,
	}); err != nil {
		return fmt.Errorf("pin gateway neighbour %s: %w", gw, err)
	}
	if err := h.RouteReplace(&netlink.Route{
		LinkIndex: eth0.Attrs().Index,
		Dst:       &net.IPNet{IP: gw, Mask: net.CIDRMask(32, 32)},
		Scope:     netlink.SCOPE_LINK,
	}); err != nil {
		return fmt.Errorf("route gateway %s in pod: %w", gw, err)
	}
	if err := h.RouteReplace(&netlink.Route{
		LinkIndex: eth0.Attrs().Index,
		Dst:       &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)},
		Gw:        gw,
	}); err != nil {
		return fmt.Errorf("default route in pod: %w", err)
	}
	return nil
}

func configureNodeSide(h *netlink.Handle, host netlink.Link, ip net.IP) error {
	if err := h.LinkSetUp(host); err != nil {
		return fmt.Errorf("set %s up: %w", host.Attrs().Name, err)
	}
	dst := &net.IPNet{IP: ip, Mask: net.CIDRMask(32, 32)}
	routes, err := retryDump(func() ([]netlink.Route, error) {
		return h.RouteListFiltered(unix.AF_INET, &netlink.Route{LinkIndex: host.Attrs().Index}, netlink.RT_FILTER_OIF)
	})
	if err != nil {
		return fmt.Errorf("list routes on %s: %w", host.Attrs().Name, err)
	}
	for _, r := range routes {
		if r.Protocol == ProtoPod && r.Dst != nil && r.Dst.String() != dst.String() {
			if err := h.RouteDel(&r); err != nil {
				return fmt.Errorf("remove stale pod route %s: %w", r.Dst, err)
			}
		}
	}
	if err := h.RouteReplace(&netlink.Route{
		LinkIndex: host.Attrs().Index,
		Dst:       dst,
		Scope:     netlink.SCOPE_LINK,
		Protocol:  ProtoPod,
	}); err != nil {
		return fmt.Errorf("route %s to %s: %w", dst, host.Attrs().Name, err)
	}
	return nil
}

// TeardownPod removes the pod's veth pair (and with it the node route) and
// its namespace mount. Nothing there is fine. Processes still inside the
// namespace keep it alive but lose their network.
func (p *Plane) TeardownPod(ctx context.Context, podID string) error {
	if err := validatePodID(podID); err != nil {
		return fmt.Errorf("teardown pod: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("teardown pod %s: %w", podID, err)
	}
	p.podMu.Lock()
	defer p.podMu.Unlock()
	if err := p.teardown(podID); err != nil {
		p.holders = nil // read again: what this left is not known
		return fmt.Errorf("teardown pod %s: %w", podID, err)
	}
	p.released(podID)
	p.log.Debug("pod unwired", "pod", podID)
	return nil
}

func (p *Plane) teardown(podID string) error {
	nodeH, err := handleAt(p.node, "node")
	if err != nil {
		return err
	}
	defer nodeH.Close()
	hostName := p.HostIfName(podID)
	if l, err := nodeH.LinkByName(hostName); err == nil {
		if err := nodeH.LinkDel(l); err != nil && !isNotFound(err) {
			return fmt.Errorf("delete veth %s: %w", hostName, err)
		}
	} else if !isNotFound(err) {
		return fmt.Errorf("look up veth %s: %w", hostName, err)
	}
	path := p.NetnsPath(podID)
	if err := p.deletePodEth0(path); err != nil {
		return err
	}
	return deleteNamedNetns(path)
}

// deletePodEth0 removes a pod-side eth0 whose node end is already gone (a
// pair is deleted as one, so this only finds half-made pods). A process may
// still hold the namespace after the mount goes, so do it now.
func (p *Plane) deletePodEth0(path string) error {
	live, err := isNetnsMount(path)
	if err != nil || !live {
		return err
	}
	podNs, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", path, err)
	}
	defer podNs.Close()
	podH, err := handleAt(podNs, "pod")
	if err != nil {
		return err
	}
	defer podH.Close()
	l, err := podH.LinkByName(PodIfName)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up pod %s: %w", PodIfName, err)
	}
	if err := podH.LinkDel(l); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete pod %s: %w", PodIfName, err)
	}
	return nil
}

// ListPods returns the podIDs of every namespace under NetnsDir named with
// this Plane's prefix, live or stale, so the agent can tear down those no
// pod claims. A prefix that is itself a prefix of another Plane's (say
// "shoal-" and "shoal-lab1-") also lists that Plane's pods; give Planes
// sharing a host disjoint prefixes.
func (p *Plane) ListPods(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	entries, err := os.ReadDir(NetnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list pods: read %s: %w", NetnsDir, err)
	}
	var ids []string
	for _, e := range entries {
		id, ok := strings.CutPrefix(e.Name(), p.prefix)
		if ok && id != "" && !e.IsDir() {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, nil
}
