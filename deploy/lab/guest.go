package lab

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
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
	if err := buildBridgedNetns(l, ns, guestPort, netip.PrefixFrom(addr, prefix.Bits())); err != nil {
		if !errors.Is(err, fs.ErrExist) { // not someone else's namespace
			_ = deleteNetns(ns) // takes the veth with it
		}
		return "", netip.Addr{}, fmt.Errorf("lab %s guest: %w", l.Name, err)
	}
	return ns, addr, nil
}
