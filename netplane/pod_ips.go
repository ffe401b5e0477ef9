package netplane

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// ErrIPHeld is why SetupPod refuses a pod an IP: another pod network
// namespace of this Plane holds it.
var ErrIPHeld = errors.New("the IP is held by another pod network on this node")

// A node never wires one IP into two pod namespaces. The fleet's state
// gives an IP to one pod at a time, but it frees the IP when the pod
// object goes, and a node may not have torn the old pod's namespace down
// yet (it was restarting, busy stopping it, or working from a view older
// than the state: an agent restarted while cut off keeps the pods of its
// saved view). Were the new pod wired then, two namespaces would answer
// for the IP (found by `shoal lab chaos`, seed 2, during a rolling
// restart). So the Plane keeps which of its namespaces holds each pod IP
// and refuses a second holder: the pod waits until the old namespace is
// gone, which the node's reconciler removes before it starts anything
// (Kubernetes' IPAM likewise hands an IP out again only once the kubelet
// has torn the sandbox down).

// ipHolders maps each IPv4 address held in a pod namespace of this Plane
// to the pod IDs holding it. nil until first needed after New or after a
// setup or teardown failed (a namespace may then be half changed): it is
// read again from the namespaces themselves, so it covers what an earlier
// agent on this node wired.
type ipHolders map[string][]string

// heldBy returns the pods other than podID whose namespaces hold ip; p.podMu
// is held.
func (p *Plane) heldBy(ip net.IP, podID string) ([]string, error) {
	if p.holders == nil {
		h, err := p.readHolders()
		if err != nil {
			return nil, fmt.Errorf("read which pod networks hold which IP: %w", err)
		}
		p.holders = h
	}
	var out []string
	for _, id := range p.holders[ip.String()] {
		if id != podID {
			out = append(out, id)
		}
	}
	return out, nil
}

// holds records that podID's namespace holds exactly ip now; p.podMu is held.
func (p *Plane) holds(podID string, ip net.IP) {
	if p.holders == nil {
		return // read again when next needed
	}
	p.released(podID)
	p.holders[ip.String()] = append(p.holders[ip.String()], podID)
}

// released records that podID's namespace holds no IP now; p.podMu is held.
func (p *Plane) released(podID string) {
	for ip, ids := range p.holders {
		kept := ids[:0]
		for _, id := range ids {
			if id != podID {
				kept = append(kept, id)
			}
		}
		if len(kept) == 0 {
			delete(p.holders, ip)
		} else {
			p.holders[ip] = kept
		}
	}
}

// readHolders reads the IPv4 addresses of every pod namespace of this
// Plane. A namespace whose addresses cannot be read is an error, not a
// namespace holding nothing: refusing to wire is safe, guessing is not.
func (p *Plane) readHolders() (ipHolders, error) {
	entries, err := os.ReadDir(NetnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return ipHolders{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", NetnsDir, err)
	}
	h := ipHolders{}
	for _, e := range entries {
		id, ok := strings.CutPrefix(e.Name(), p.prefix)
		if !ok || id == "" || e.IsDir() {
			continue
		}
		ips, err := netnsIPv4(p.NetnsPath(id))
		if err != nil {
			return nil, fmt.Errorf("pod network %s: %w", id, err)
		}
		for _, ip := range ips {
			h[ip] = append(h[ip], id)
		}
	}
	for _, ids := range h {
		sort.Strings(ids)
	}
	return h, nil
}

// netnsIPv4 lists the IPv4 addresses (loopback aside) in the namespace
// mounted at path; a path that is no namespace mount holds none.
func netnsIPv4(path string) ([]string, error) {
	live, err := isNetnsMount(path)
	if err != nil || !live {
		return nil, err
	}
	ns, err := netns.GetFromPath(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open netns %s: %w", path, err)
	}
	defer ns.Close()
	h, err := handleAt(ns, "pod")
	if err != nil {
		return nil, err
	}
	defer h.Close()
	addrs, err := retryDump(func() ([]netlink.Addr, error) { return h.AddrList(nil, netlink.FAMILY_V4) })
	if err != nil {
		return nil, fmt.Errorf("list addresses in %s: %w", path, err)
	}
	var out []string
	for _, a := range addrs {
		if a.IP == nil || a.IP.IsLoopback() {
			continue
		}
		out = append(out, a.IP.String())
	}
	return out, nil
}
