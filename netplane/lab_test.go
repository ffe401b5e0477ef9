package netplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/shoal-dev/shoal/netplane/nsthread"
)

// Test fixtures: real namespaces standing in for nodes. Every packet a test
// sends stays inside namespaces the test made; the host namespace is never
// given a route or link.

func requireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root to create network namespaces")
	}
}

// uniq is a short random tag so parallel and repeated runs never collide.
func uniq(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// newNodeNs makes a named namespace with loopback up and removes it when the
// test ends.
func newNodeNs(tb testing.TB, name string) netns.NsHandle {
	tb.Helper()
	path := NetnsDir + "/" + name
	if _, err := createNamedNetns(path); err != nil {
		tb.Fatalf("create node netns %s: %v", name, err)
	}
	ns, err := netns.GetFromPath(path)
	if err != nil {
		_ = deleteNamedNetns(path)
		tb.Fatalf("open node netns %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ns.Close()
		if err := deleteNamedNetns(path); err != nil {
			tb.Errorf("cleanup node netns %s: %v", name, err)
		}
	})
	h := mustHandle(tb, ns)
	lo, err := h.LinkByName("lo")
	if err != nil {
		tb.Fatal(err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		tb.Fatal(err)
	}
	return ns
}

func mustHandle(tb testing.TB, ns netns.NsHandle) *netlink.Handle {
	tb.Helper()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		tb.Fatalf("netlink handle: %v", err)
	}
	tb.Cleanup(h.Close)
	return h
}

// linkNodes joins two node namespaces with a veth "up0" on each side, the
// shared link peer routes go over.
func linkNodes(tb testing.TB, a, b netns.NsHandle, addrA, addrB string) {
	tb.Helper()
	ha, hb := mustHandle(tb, a), mustHandle(tb, b)
	if err := ha.LinkAdd(&netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: "up0"},
		PeerName:      "up0",
		PeerNamespace: netlink.NsFd(int(b)),
	}); err != nil {
		tb.Fatalf("create uplink veth: %v", err)
	}
	for _, side := range []struct {
		h    *netlink.Handle
		addr string
	}{{ha, addrA}, {hb, addrB}} {
		l, err := side.h.LinkByName("up0")
		if err != nil {
			tb.Fatal(err)
		}
		a, err := netlink.ParseAddr(side.addr)
		if err != nil {
			tb.Fatal(err)
		}
		if err := side.h.AddrAdd(l, a); err != nil {
			tb.Fatalf("address %s: %v", side.addr, err)
		}
		if err := side.h.LinkSetUp(l); err != nil {
			tb.Fatal(err)
		}
	}
}

func newPlane(tb testing.TB, prefix string, node netns.NsHandle) *Plane {
	tb.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	p, err := New(Config{NetnsPrefix: prefix, NodeNetns: node}, log)
	if err != nil {
		tb.Fatalf("new plane: %v", err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return p
}

// setupPod wires a pod and tears it down when the test ends.
func setupPod(tb testing.TB, p *Plane, podID, ip string) string {
	tb.Helper()
	path, err := p.SetupPod(context.Background(), podID, net.ParseIP(ip))
	tb.Cleanup(func() {
		if err := p.TeardownPod(context.Background(), podID); err != nil {
			tb.Errorf("cleanup pod %s: %v", podID, err)
		}
	})
	if err != nil {
		tb.Fatalf("setup pod %s: %v", podID, err)
	}
	return path
}

func openNs(tb testing.TB, path string) netns.NsHandle {
	tb.Helper()
	ns, err := netns.GetFromPath(path)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() { ns.Close() })
	return ns
}

func cidr(tb testing.TB, s string) *net.IPNet {
	tb.Helper()
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// listenIn opens a TCP listener whose socket belongs to ns.
func listenIn(ns netns.NsHandle, addr string) (net.Listener, error) {
	var ln net.Listener
	err := nsthread.RunIn(ns, func() error {
		var err error
		ln, err = net.Listen("tcp4", addr)
		return err
	})
	return ln, err
}

// dialIn connects from a socket that belongs to ns.
func dialIn(ctx context.Context, ns netns.NsHandle, addr string) (net.Conn, error) {
	var c net.Conn
	err := nsthread.RunIn(ns, func() error {
		var err error
		var d net.Dialer
		c, err = d.DialContext(ctx, "tcp4", addr)
		return err
	})
	return c, err
}

func routesWithProto(tb testing.TB, h *netlink.Handle, proto netlink.RouteProtocol) []netlink.Route {
	tb.Helper()
	rs, err := h.RouteListFiltered(unix.AF_INET, &netlink.Route{Protocol: proto}, netlink.RT_FILTER_PROTOCOL)
	if err != nil {
		tb.Fatalf("list routes: %v", err)
	}
	return rs
}

func dsts(rs []netlink.Route) map[string]string {
	m := map[string]string{}
	for _, r := range rs {
		m[fmt.Sprint(r.Dst)] = fmt.Sprint(r.Gw)
	}
	return m
}

// assertHostUntouched checks the test process's own namespace got none of
// netplane's routes.
func assertHostUntouched(tb testing.TB) {
	tb.Helper()
	h, err := netlink.NewHandle()
	if err != nil {
		tb.Fatal(err)
	}
	defer h.Close()
	for _, proto := range []netlink.RouteProtocol{ProtoPeer, ProtoPod} {
		if rs := routesWithProto(tb, h, proto); len(rs) != 0 {
			tb.Errorf("host namespace has netplane routes (proto %d): %v", proto, rs)
		}
	}
}
