package lab

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/shoal-dev/shoal/netplane/netnsdir"
	"github.com/shoal-dev/shoal/netplane/nsthread"
)

// createNetns makes a named network namespace at /run/netns/name, the same
// way `ip netns add` does, and returns a handle to it.
func createNetns(name string) (netns.NsHandle, error) {
	// The lab mounts the first namespaces of a fresh host, before any
	// agent: the directory must be a shared mount before that (netnsdir).
	if err := netnsdir.Prepare(netnsDir); err != nil {
		return netns.None(), fmt.Errorf("create netns %s: %w", name, err)
	}
	path := filepath.Join(netnsDir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return netns.None(), fmt.Errorf("create netns %s: %w", name, err)
	}
	f.Close()
	err = nsthread.OnDoomedThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare: %w", err)
		}
		self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		if err := unix.Mount(self, path, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind mount: %w", err)
		}
		return nil
	})
	if err != nil {
		_ = os.Remove(path)
		return netns.None(), fmt.Errorf("create netns %s: %w", name, err)
	}
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return netns.None(), fmt.Errorf("open netns %s: %w", name, err)
	}
	return ns, nil
}

// deleteNetns unmounts every copy stacked on /run/netns/name and removes
// it; a missing one is fine.
func deleteNetns(name string) error {
	if err := netnsdir.Remove(filepath.Join(netnsDir, name)); err != nil {
		return fmt.Errorf("delete netns %s: %w", name, err)
	}
	return nil
}

func netnsExists(name string) bool {
	_, err := os.Lstat(filepath.Join(netnsDir, name))
	return err == nil
}

// listNetns returns the names in /run/netns.
func listNetns() ([]string, error) {
	entries, err := os.ReadDir(netnsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", netnsDir, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, nil
}

// buildLabNetns makes the lab namespace with its bridge and the host link:
// a veth with hostAddr on the host side and its peer on the bridge.
func buildLabNetns(lab *Lab, hostAddr netip.Prefix) error {
	ns, err := createNetns(lab.Netns)
	if err != nil {
		return err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", lab.Netns, err)
	}
	defer h.Close()
	if err := linkUp(h, "lo"); err != nil {
		return fmt.Errorf("lab netns %s: %w", lab.Netns, err)
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: bridgeName}}
	if err := h.LinkAdd(br); err != nil {
		return fmt.Errorf("lab netns %s: add bridge %s: %w", lab.Netns, bridgeName, err)
	}
	if err := linkUp(h, bridgeName); err != nil {
		return fmt.Errorf("lab netns %s: %w", lab.Netns, err)
	}

	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: lab.HostLink},
		PeerName:      labHostPeer,
		PeerNamespace: netlink.NsFd(int(ns)),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("add host link %s: %w", lab.HostLink, err)
	}
	if err := attachToBridge(h, labHostPeer); err != nil {
		return fmt.Errorf("lab netns %s: %w", lab.Netns, err)
	}
	host, err := netlink.NewHandle()
	if err != nil {
		return fmt.Errorf("netlink in host netns: %w", err)
	}
	defer host.Close()
	// The address's connected route is the one route the lab adds to the
	// host: it lets the CLI reach the agents' APIs and nothing else.
	if err := addAddr(host, lab.HostLink, hostAddr); err != nil {
		return fmt.Errorf("host link: %w", err)
	}
	if err := linkUp(host, lab.HostLink); err != nil {
		return fmt.Errorf("host link: %w", err)
	}
	return nil
}

// buildNodeNetns makes a node namespace with lo up and eth0 (addr) on the
// lab bridge. It gets no default route: it reaches only the lab range.
func buildNodeNetns(lab *Lab, node Node, addr netip.Prefix) error {
	if err := buildBridgedNetns(lab, node.Netns, bridgePortName(node.Name), addr); err != nil {
		return fmt.Errorf("node %s: %w", node.Name, err)
	}
	return nil
}

// buildBridgedNetns makes namespace name with lo up and eth0 (addr) on the
// lab bridge, through a veth whose bridge side is port; no default route.
func buildBridgedNetns(lab *Lab, name, port string, addr netip.Prefix) error {
	labNS, err := netns.GetFromName(lab.Netns)
	if err != nil {
		return fmt.Errorf("open lab netns %s: %w", lab.Netns, err)
	}
	defer labNS.Close()
	ns, err := createNetns(name)
	if err != nil {
		return err
	}
	defer ns.Close()

	hl, err := netlink.NewHandleAt(labNS)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", lab.Netns, err)
	}
	defer hl.Close()
	hn, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", name, err)
	}
	defer hn.Close()

	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: port},
		PeerName:      nodeIfName,
		PeerNamespace: netlink.NsFd(int(ns)),
	}
	if err := hl.LinkAdd(veth); err != nil {
		return fmt.Errorf("add veth %s: %w", port, err)
	}
	if err := attachToBridge(hl, port); err != nil {
		return err
	}
	if err := linkUp(hn, "lo"); err != nil {
		return err
	}
	if err := addAddr(hn, nodeIfName, addr); err != nil {
		return err
	}
	return linkUp(hn, nodeIfName)
}

func linkUp(h *netlink.Handle, name string) error {
	link, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find link %s: %w", name, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("set %s up: %w", name, err)
	}
	return nil
}

func attachToBridge(h *netlink.Handle, name string) error {
	link, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find link %s: %w", name, err)
	}
	br, err := h.LinkByName(bridgeName)
	if err != nil {
		return fmt.Errorf("find bridge %s: %w", bridgeName, err)
	}
	if err := h.LinkSetMaster(link, br); err != nil {
		return fmt.Errorf("attach %s to %s: %w", name, bridgeName, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("set %s up: %w", name, err)
	}
	return nil
}

func addAddr(h *netlink.Handle, name string, p netip.Prefix) error {
	link, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find link %s: %w", name, err)
	}
	ipnet := &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}
	if err := h.AddrAdd(link, &netlink.Addr{IPNet: ipnet}); err != nil {
		return fmt.Errorf("add %s to %s: %w", p, name, err)
	}
	return nil
}

// deleteHostLink removes the host-side veth; a missing one is fine.
func deleteHostLink(name string) error {
	link, err := netlink.LinkByName(name)
	if err != nil {
		var notFound netlink.LinkNotFoundError
		if errors.As(err, &notFound) {
			return nil
		}
		return fmt.Errorf("find host link %s: %w", name, err)
	}
	if err := netlink.LinkDel(link); err != nil {
		return fmt.Errorf("delete host link %s: %w", name, err)
	}
	return nil
}
