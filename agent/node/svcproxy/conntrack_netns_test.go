package svcproxy

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/shoal-dev/shoal/netplane/nsthread"
)

// udpClient is one UDP socket in a pod that keeps its source port, as a
// resolver that reuses its socket does.
type udpClient struct {
	tb testing.TB
	c  net.Conn
}

func dialUDP(tb testing.TB, path, addr string) *udpClient {
	tb.Helper()
	var c net.Conn
	if err := nsthread.Run(path, func() error {
		var err error
		c, err = net.Dial("udp4", addr)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return &udpClient{tb: tb, c: c}
}

// ask sends datagrams until one is answered and returns the server's IP.
func (u *udpClient) ask() string {
	u.tb.Helper()
	buf := make([]byte, 512)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if _, err := u.c.Write([]byte("?")); err != nil {
			continue // refused while the port has no endpoint: try again
		}
		_ = u.c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := u.c.Read(buf)
		if err != nil {
			continue
		}
		f := strings.Fields(string(buf[:n]))
		if len(f) != 2 {
			u.tb.Fatalf("answer %q", buf[:n])
		}
		return hostOf(u.tb, f[0])
	}
	u.tb.Fatalf("no UDP answer through %s", u.c.RemoteAddr())
	return ""
}

// flowsTo counts the node's UDP conntrack entries sent to dst.
func (n *node) flowsTo(tb testing.TB, dst string) int {
	tb.Helper()
	var flows []*netlink.ConntrackFlow
	if err := nsthread.Run(n.path, func() error {
		var err error
		flows, err = netlink.ConntrackTableList(netlink.ConntrackTable, unix.AF_INET)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	count := 0
	for _, f := range flows {
		if f.Forward.Protocol == unix.IPPROTO_UDP && f.Forward.DstIP.String() == dst {
			count++
		}
	}
	return count
}

func TestRemovedUDPEndpointsFlowsAreDeletedFromTheNodesConntrack(t *testing.T) {
	n := newNode(t)
	client := n.pod(t, "client", clientIP)
	udpEchoServer(t, n.pod(t, "srv1", srv1IP), srv1IP+":5353")
	udpEchoServer(t, n.pod(t, "srv2", srv2IP), srv2IP+":5353")
	p := n.proxy(t)
	ctx := t.Context()
	dns := func(eps ...string) []Service { return []Service{dnsSvc(0, eps...)} }

	if err := p.Sync(ctx, dns(srv1IP)); err != nil {
		t.Fatal(err)
	}
	u := dialUDP(t, client, vip+":53")
	if got := u.ask(); got != srv1IP {
		t.Fatalf("first answer from %s, want %s", got, srv1IP)
	}
	if err := p.Sync(ctx, dns(srv1IP, srv2IP)); err != nil {
		t.Fatal(err)
	}
	// An endpoint added leaves the flow where it is.
	for range 5 {
		if got := u.ask(); got != srv1IP {
			t.Fatalf("after srv2 joined the flow moved to %s", got)
		}
	}
	// srv1 still runs, so without the flush the same socket's datagrams
	// would keep reaching it.
	if err := p.Sync(ctx, dns(srv2IP)); err != nil {
		t.Fatal(err)
	}
	if got := u.ask(); got != srv2IP {
		t.Fatalf("after srv1 left the same socket reached %s, want %s", got, srv2IP)
	}
	if n.flowsTo(t, vip) == 0 {
		t.Fatalf("no conntrack entry to %s in the node namespace: the test sees nothing", vip)
	}

	t.Run("the Service deleted", func(t *testing.T) {
		if err := p.Sync(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if c := n.flowsTo(t, vip); c != 0 {
			t.Errorf("%d UDP conntrack entries to %s after the Service went", c, vip)
		}
	})

	t.Run("TCP flows are left alone", func(t *testing.T) {
		echoServer(t, n.pod(t, "srv3", "10.244.1.5"), "10.244.1.5:8080")
		if err := p.Sync(ctx, []Service{web("10.244.1.5")}); err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var c net.Conn
		if err := nsthread.Run(client, func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(cctx, "tcp4", vip+":80")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := p.Sync(ctx, []Service{web()}); err != nil {
			t.Fatal(err)
		}
		var flows []*netlink.ConntrackFlow
		_ = nsthread.Run(n.path, func() error {
			var err error
			flows, err = netlink.ConntrackTableList(netlink.ConntrackTable, unix.AF_INET)
			return err
		})
		found := false
		for _, f := range flows {
			found = found || (f.Forward.Protocol == unix.IPPROTO_TCP && f.Forward.DstIP.Equal(netip.MustParseAddr(vip).AsSlice()))
		}
		if !found {
			t.Errorf("the TCP flow to %s went with its endpoint", vip)
		}
	})
	assertHostHasNoTable(t)
}
