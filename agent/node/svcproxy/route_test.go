package svcproxy

import (
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/shoal-dev/shoal/netplane"
)

// TestEnsureRouteAddsTheServiceRangeOnceAndOnlyWhereNothingCoversIt runs
// in a namespace of its own: a link with the node address, no default
// route.
func TestEnsureRouteAddsTheServiceRangeOnceAndOnlyWhereNothingCoversIt(t *testing.T) {
	requireRoot(t)
	name := "svcr" + uniq(t)
	path := netplane.NetnsDir + "/" + name
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("cleanup netns %s: %v\n%s", name, err, out)
		}
	})
	run(t, "ip", "-n", name, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p")
	run(t, "ip", "-n", name, "link", "set", "eth0", "up")
	run(t, "ip", "-n", name, "link", "set", "eth0p", "up")
	run(t, "ip", "-n", name, "addr", "add", "10.99.0.1/24", "dev", "eth0")

	cidr, src := netip.MustParsePrefix("10.96.0.0/16"), netip.MustParseAddr("10.99.0.1")
	if _, err := EnsureRoute(path, netip.MustParsePrefix("0.0.0.0/0"), src); err == nil {
		t.Fatal("a /0 range was accepted: that is a default route")
	}
	if _, err := EnsureRoute(path, cidr, netip.MustParseAddr("10.99.0.2")); err == nil {
		t.Fatal("a source no link holds was accepted")
	}
	added, err := EnsureRoute(path, cidr, src)
	if err != nil || !added {
		t.Fatalf("first EnsureRoute = %v, %v; want added", added, err)
	}
	out := run(t, "ip", "-n", name, "route", "show", "10.96.0.0/16")
	if !strings.Contains(out, "dev eth0") || !strings.Contains(out, "src 10.99.0.1") {
		t.Fatalf("route %q, want 10.96.0.0/16 dev eth0 src 10.99.0.1", out)
	}
	if added, err := EnsureRoute(path, cidr, src); err != nil || added {
		t.Fatalf("second EnsureRoute = %v, %v; want nothing added", added, err)
	}
	if out := run(t, "ip", "-n", name, "route", "show", "default"); strings.TrimSpace(out) != "" {
		t.Fatalf("a default route appeared: %q", out)
	}

	// A covering route (here 10.96.0.0/12 on the link) carries the range:
	// nothing is added.
	run(t, "ip", "-n", name, "route", "del", "10.96.0.0/16")
	ns, err := netns.GetFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	l, err := h.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	_, wide, _ := net.ParseCIDR("10.96.0.0/12")
	if err := h.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Dst: wide, Scope: netlink.SCOPE_LINK}); err != nil {
		t.Fatal(err)
	}
	if added, err := EnsureRoute(path, cidr, src); err != nil || added {
		t.Fatalf("EnsureRoute under a covering route = %v, %v; want nothing added", added, err)
	}
}
