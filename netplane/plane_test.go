package netplane

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// twoNodes is the smallest fleet: two node namespaces on one link, a Plane
// each, forwarding on.
type twoNodes struct {
	tag    string
	a, b   *Plane
	ha, hb *netlink.Handle
}

func newTwoNodes(t *testing.T) twoNodes {
	t.Helper()
	requireRoot(t)
	tag := "npt" + uniq(t)
	nsA := newNodeNs(t, tag+"-na")
	nsB := newNodeNs(t, tag+"-nb")
	linkNodes(t, nsA, nsB, "10.99.77.1/24", "10.99.77.2/24")
	n := twoNodes{
		tag: tag,
		a:   newPlane(t, tag+"-a-", nsA),
		b:   newPlane(t, tag+"-b-", nsB),
		ha:  mustHandle(t, nsA),
		hb:  mustHandle(t, nsB),
	}
	for _, p := range []*Plane{n.a, n.b} {
		if err := p.EnsureNode(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { assertHostUntouched(t) })
	return n
}

func TestPodsOnTwoNodesTalkDirectlyWithoutNAT(t *testing.T) {
	n := newTwoNodes(t)
	ctx := t.Context()
	pathA := setupPod(t, n.a, "web", "10.244.1.5")
	pathB := setupPod(t, n.b, "db", "10.244.2.7")
	if err := n.a.SyncPeerRoutes(ctx, []Peer{{Block: cidr(t, "10.244.2.0/24"), Via: net.ParseIP("10.99.77.2")}}); err != nil {
		t.Fatal(err)
	}
	if err := n.b.SyncPeerRoutes(ctx, []Peer{{Block: cidr(t, "10.244.1.0/24"), Via: net.ParseIP("10.99.77.1")}}); err != nil {
		t.Fatal(err)
	}

	ln, err := listenIn(openNs(t, pathB), "10.244.2.7:8080")
	if err != nil {
		t.Fatalf("listen in pod B: %v", err)
	}
	defer ln.Close()
	remote := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			remote <- "accept: " + err.Error()
			return
		}
		defer c.Close()
		remote <- c.RemoteAddr().String()
		_, _ = c.Write([]byte("hi"))
	}()

	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := dialIn(dctx, openNs(t, pathA), "10.244.2.7:8080")
	if err != nil {
		t.Fatalf("dial pod B from pod A: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2)
	if _, err := c.Read(buf); err != nil || string(buf) != "hi" {
		t.Fatalf("read from pod B: %q, %v", buf, err)
	}
	got := <-remote
	host, _, err := net.SplitHostPort(got)
	if err != nil || host != "10.244.1.5" {
		t.Fatalf("pod B saw the connection from %q, want pod A's own IP 10.244.1.5 (no NAT)", got)
	}
}

func TestSetupPodTwiceIsIdempotent(t *testing.T) {
	n := newTwoNodes(t)
	first := setupPod(t, n.a, "web", "10.244.1.5")
	hostIf := n.a.HostIfName("web")
	before, err := n.ha.LinkByName(hostIf)
	if err != nil {
		t.Fatal(err)
	}
	second, err := n.a.SetupPod(t.Context(), "web", net.ParseIP("10.244.1.5"))
	if err != nil {
		t.Fatalf("second setup: %v", err)
	}
	if first != second {
		t.Fatalf("netns path changed: %s then %s", first, second)
	}
	after, err := n.ha.LinkByName(hostIf)
	if err != nil {
		t.Fatal(err)
	}
	if before.Attrs().Index != after.Attrs().Index {
		t.Fatalf("veth was recreated (index %d -> %d); a rerun must keep it", before.Attrs().Index, after.Attrs().Index)
	}
	assertPodWired(t, n.ha, openNs(t, second), hostIf, "10.244.1.5")
}

func TestSetupPodMovesPodToNewIP(t *testing.T) {
	n := newTwoNodes(t)
	setupPod(t, n.a, "web", "10.244.1.5")
	path, err := n.a.SetupPod(t.Context(), "web", net.ParseIP("10.244.1.6"))
	if err != nil {
		t.Fatal(err)
	}
	assertPodWired(t, n.ha, openNs(t, path), n.a.HostIfName("web"), "10.244.1.6")
}

func TestSetupPodRepairsHalfMadePod(t *testing.T) {
	n := newTwoNodes(t)
	path := setupPod(t, n.a, "web", "10.244.1.5")
	hostIf := n.a.HostIfName("web")
	l, err := n.ha.LinkByName(hostIf)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.ha.LinkDel(l); err != nil {
		t.Fatal(err)
	}
	if _, err := n.a.SetupPod(t.Context(), "web", net.ParseIP("10.244.1.5")); err != nil {
		t.Fatalf("setup after losing the veth: %v", err)
	}
	assertPodWired(t, n.ha, openNs(t, path), hostIf, "10.244.1.5")
}

// assertPodWired checks the full shape of one pod: one /32 on eth0, the
// gateway routes and pinned neighbour inside, one node route to the veth.
func assertPodWired(t *testing.T, nodeH *netlink.Handle, podNs netns.NsHandle, hostIf, ip string) {
	t.Helper()
	podH := mustHandle(t, podNs)
	eth0, err := podH.LinkByName(PodIfName)
	if err != nil {
		t.Fatalf("pod eth0: %v", err)
	}
	addrs, err := podH.AddrList(eth0, unix.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) != 1 || addrs[0].IPNet.String() != ip+"/32" {
		t.Fatalf("pod eth0 addresses = %v, want exactly %s/32", addrs, ip)
	}
	routes, err := podH.RouteList(eth0, unix.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	var gwRoute, defRoute bool
	for _, r := range routes {
		switch {
		case r.Dst != nil && r.Dst.String() == GatewayAddr+"/32" && r.Scope == netlink.SCOPE_LINK:
			gwRoute = true
		case (r.Dst == nil || r.Dst.String() == "0.0.0.0/0") && r.Gw.String() == GatewayAddr:
			defRoute = true
		}
	}
	if !gwRoute || !defRoute {
		t.Fatalf("pod routes = %v, want %s scope link and default via it", routes, GatewayAddr)
	}
	host, err := nodeH.LinkByName(hostIf)
	if err != nil {
		t.Fatalf("node veth %s: %v", hostIf, err)
	}
	if host.Attrs().Flags&net.FlagUp == 0 {
		t.Fatalf("node veth %s is down", hostIf)
	}
	nodeRoutes := routesWithProto(t, nodeH, ProtoPod)
	if len(nodeRoutes) != 1 || nodeRoutes[0].Dst.String() != ip+"/32" || nodeRoutes[0].LinkIndex != host.Attrs().Index {
		t.Fatalf("node pod routes = %v, want exactly %s/32 dev %s", nodeRoutes, ip, hostIf)
	}
}

func TestTeardownPodRemovesNetnsVethAndRoute(t *testing.T) {
	n := newTwoNodes(t)
	path := setupPod(t, n.a, "web", "10.244.1.5")
	hostIf := n.a.HostIfName("web")
	for i := range 2 { // the second run finds nothing and must still succeed
		if err := n.a.TeardownPod(t.Context(), "web"); err != nil {
			t.Fatalf("teardown #%d: %v", i+1, err)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("netns file %s still there (stat err %v)", path, err)
	}
	if _, err := n.ha.LinkByName(hostIf); !isNotFound(err) {
		t.Fatalf("node veth %s still there (err %v)", hostIf, err)
	}
	if rs := routesWithProto(t, n.ha, ProtoPod); len(rs) != 0 {
		t.Fatalf("node still routes to the pod: %v", rs)
	}
}

func TestSyncPeerRoutesConvergesAndLeavesForeignRoutes(t *testing.T) {
	n := newTwoNodes(t)
	ctx := t.Context()
	via := net.ParseIP("10.99.77.2")
	up, err := n.ha.LinkByName("up0")
	if err != nil {
		t.Fatal(err)
	}
	foreign := &netlink.Route{Dst: cidr(t, "10.244.9.0/24"), Gw: via, LinkIndex: up.Attrs().Index, Protocol: unix.RTPROT_STATIC}
	if err := n.ha.RouteAdd(foreign); err != nil {
		t.Fatal(err)
	}

	b2, b3 := cidr(t, "10.244.2.0/24"), cidr(t, "10.244.3.0/24")
	if err := n.a.SyncPeerRoutes(ctx, []Peer{{Block: b2, Via: via}, {Block: b3, Via: via}}); err != nil {
		t.Fatal(err)
	}
	if got := dsts(routesWithProto(t, n.ha, ProtoPeer)); len(got) != 2 || got["10.244.2.0/24"] != "10.99.77.2" || got["10.244.3.0/24"] != "10.99.77.2" {
		t.Fatalf("peer routes after first sync = %v", got)
	}
	if err := n.a.SyncPeerRoutes(ctx, []Peer{{Block: b2, Via: via}}); err != nil {
		t.Fatal(err)
	}
	if got := dsts(routesWithProto(t, n.ha, ProtoPeer)); len(got) != 1 || got["10.244.2.0/24"] != "10.99.77.2" {
		t.Fatalf("peer routes after dropping 10.244.3.0/24 = %v, want only 10.244.2.0/24", got)
	}
	if got := dsts(routesWithProto(t, n.ha, unix.RTPROT_STATIC)); got["10.244.9.0/24"] != "10.99.77.2" {
		t.Fatalf("a route netplane does not own was removed: static routes = %v", got)
	}
	if err := n.a.SyncPeerRoutes(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := routesWithProto(t, n.ha, ProtoPeer); len(got) != 0 {
		t.Fatalf("peer routes after syncing an empty set = %v", got)
	}
}

func TestSyncPeerRoutesRejectsUnreachablePeerButAppliesTheRest(t *testing.T) {
	n := newTwoNodes(t)
	err := n.a.SyncPeerRoutes(t.Context(), []Peer{
		{Block: cidr(t, "10.244.2.0/24"), Via: net.ParseIP("10.99.77.2")},
		{Block: cidr(t, "10.244.4.0/24"), Via: net.ParseIP("10.99.78.9")}, // no link reaches it
		{Block: cidr(t, "10.244.5.0/24"), Via: net.ParseIP("10.99.77.1")}, // this node itself
	})
	if err == nil || !strings.Contains(err.Error(), "10.99.78.9") || !strings.Contains(err.Error(), "is this node") {
		t.Fatalf("err = %v, want it to name the unreachable and the local peer", err)
	}
	if got := dsts(routesWithProto(t, n.ha, ProtoPeer)); len(got) != 1 || got["10.244.2.0/24"] != "10.99.77.2" {
		t.Fatalf("peer routes = %v, want the good peer applied", got)
	}
}

func TestListPodsListsOnlyPrefixMatches(t *testing.T) {
	n := newTwoNodes(t)
	setupPod(t, n.a, "web", "10.244.1.5")
	setupPod(t, n.a, "cache", "10.244.1.6")
	setupPod(t, n.b, "db", "10.244.2.7")
	got, err := n.a.ListPods(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "cache,web" {
		t.Fatalf("ListPods on node A = %v, want [cache web] (not node B's pod, not the node namespaces)", got)
	}
}

func TestConcurrentSetupOfManyPodsOnOneNode(t *testing.T) {
	n := newTwoNodes(t)
	const pods = 8
	errs := make(chan error, pods)
	for i := range pods {
		go func() {
			_, err := n.a.SetupPod(t.Context(), "p"+string(rune('a'+i)), net.IPv4(10, 244, 1, byte(10+i)))
			errs <- err
		}()
	}
	for range pods {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() {
		for i := range pods {
			if err := n.a.TeardownPod(context.Background(), "p"+string(rune('a'+i))); err != nil {
				t.Errorf("teardown: %v", err)
			}
		}
	})
	if got := routesWithProto(t, n.ha, ProtoPod); len(got) != pods {
		t.Fatalf("node has %d pod routes, want %d", len(got), pods)
	}
}
