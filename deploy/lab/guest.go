package lab

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// guestPort is the guest's port on the lab bridge; one guest per lab.
const guestPort = "vguest"

// guestOffset puts the guest above every node address (nodes are .11 up,
// at most maxNodes of them).
const guestOffset = 250

// GuestNetns names the network namespace AttachGuest makes for lab name.
// It is not under the lab's "shoal-NAME" prefix, where it could be taken
// for another lab's namespace; Down removes it by this name.
func GuestNetns(name string) string { return "shoalreg-" + name }

// AttachGuest makes the lab's guest namespace, GuestNetns(l.Name): lo up
// and eth0 on the lab bridge at the lab range's .250, no default route, so
// a service started in it (the e2e tests' image registry) is reachable
// from the nodes and from the host over the lab link, and from nowhere
// else. Down stops whatever runs in it and removes it with the lab, so a
// test that dies half-way leaves nothing behind once the lab is down.
func (l *Lab) AttachGuest() (string, netip.Addr, error) {
	ns := GuestNetns(l.Name)
	prefix, err := netip.ParsePrefix(l.LabCIDR)
	if err != nil {
		return "", netip.Addr{}, fmt.Errorf("lab %s guest: lab CIDR %q: %w", l.Name, l.LabCIDR, err)
	}
	prefix = prefix.Masked()
	addr := offset(prefix.Addr(), guestOffset)
	if !prefix.Contains(addr) || addr == lastAddr(prefix) {
		return "", netip.Addr{}, fmt.Errorf("lab %s guest: lab CIDR %s has no .%d (want a /24 or larger)", l.Name, prefix, guestOffset)
	}
	if err := buildGuestNetns(l, ns, netip.PrefixFrom(addr, prefix.Bits())); err != nil {
		return "", netip.Addr{}, fmt.Errorf("lab %s guest: %w", l.Name, err)
	}
	return ns, addr, nil
}

func buildGuestNetns(l *Lab, name string, addr netip.Prefix) (err error) {
	labNS, err := netns.GetFromName(l.Netns)
	if err != nil {
		return fmt.Errorf("open lab netns %s: %w", l.Netns, err)
	}
	defer labNS.Close()
	ns, err := createNetns(name)
	if err != nil {
		return err
	}
	defer ns.Close()
	defer func() {
		if err != nil {
			_ = deleteNetns(name) // takes the veth with it
		}
	}()
	hl, err := netlink.NewHandleAt(labNS)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", l.Netns, err)
	}
	defer hl.Close()
	hg, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", name, err)
	}
	defer hg.Close()
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: guestPort},
		PeerName:      nodeIfName,
		PeerNamespace: netlink.NsFd(int(ns)),
	}
	if err := hl.LinkAdd(veth); err != nil {
		return fmt.Errorf("add veth %s: %w", guestPort, err)
	}
	if err := attachToBridge(hl, guestPort); err != nil {
		return err
	}
	if err := linkUp(hg, "lo"); err != nil {
		return err
	}
	if err := addAddr(hg, nodeIfName, addr); err != nil {
		return err
	}
	return linkUp(hg, nodeIfName)
}
