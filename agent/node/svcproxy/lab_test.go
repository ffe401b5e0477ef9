package svcproxy

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/shoal-dev/shoal/netplane"
	"github.com/shoal-dev/shoal/netplane/nsthread"
)

// node is a node namespace made by the test, with pods wired by the real
// netplane (routed /32 veths, no bridge) and one address of its own on a
// spare link (which also carries the service range, as a node needs for its
// own connections to a ClusterIP: the route lookup happens before DNAT).
type node struct {
	name  string // ip netns name
	path  string
	plane *netplane.Plane
	addr  string
}

const (
	nodeAddr     = "10.99.0.1"
	serviceRange = "10.96.0.0/16"
)

func requireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root to create network namespaces")
	}
}

func uniq(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func run(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func quietLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newNode makes the node namespace and removes it (with every pod) when the
// test ends, failed or not.
func newNode(tb testing.TB) *node {
	tb.Helper()
	requireRoot(tb)
	tag := "svcp" + uniq(tb)
	n := &node{name: tag + "-node", path: netplane.NetnsDir + "/" + tag + "-node", addr: nodeAddr}
	run(tb, "ip", "netns", "add", n.name)
	tb.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", n.name).CombinedOutput(); err != nil {
			tb.Errorf("cleanup netns %s: %v\n%s", n.name, err, out)
		}
	})
	ns, err := netns.GetFromPath(n.path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ns.Close() })
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		tb.Fatal(err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		tb.Fatal(err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		tb.Fatal(err)
	}
	// A veth with both ends in the node (this kernel has no dummy links).
	dummy := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "svc0"}, PeerName: "svc0p"}
	if err := h.LinkAdd(dummy); err != nil {
		tb.Fatalf("add svc0 link: %v", err)
	}
	for _, name := range []string{"svc0", "svc0p"} {
		l, err := h.LinkByName(name)
		if err != nil {
			tb.Fatal(err)
		}
		if err := h.LinkSetUp(l); err != nil {
			tb.Fatal(err)
		}
	}
	a, _ := netlink.ParseAddr(nodeAddr + "/32")
	if err := h.AddrAdd(dummy, a); err != nil {
		tb.Fatal(err)
	}
	_, svcNet, _ := net.ParseCIDR(serviceRange)
	if err := h.RouteAdd(&netlink.Route{LinkIndex: dummy.Attrs().Index, Dst: svcNet, Scope: netlink.SCOPE_LINK}); err != nil {
		tb.Fatal(err)
	}

	n.plane, err = netplane.New(netplane.Config{NetnsPrefix: tag + "-", NodeNetns: ns}, quietLog())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = n.plane.Close() })
	if err := n.plane.EnsureNode(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return n
}

// pod wires a pod with ip and returns its namespace path.
func (n *node) pod(tb testing.TB, id, ip string) string {
	tb.Helper()
	path, err := n.plane.SetupPod(context.Background(), id, net.ParseIP(ip))
	tb.Cleanup(func() {
		if err := n.plane.TeardownPod(context.Background(), id); err != nil {
			tb.Errorf("cleanup pod %s: %v", id, err)
		}
	})
	if err != nil {
		tb.Fatalf("setup pod %s: %v", id, err)
	}
	return path
}

// proxy opens a Proxy on the node and closes it when the test ends.
func (n *node) proxy(tb testing.TB) *Proxy {
	tb.Helper()
	p, err := New(Config{NetNS: n.path, Logger: quietLog()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := p.Close(context.Background()); err != nil {
			tb.Errorf("close proxy: %v", err)
		}
	})
	return p
}

// tables lists the nftables tables of the node namespace.
func (n *node) tables(tb testing.TB) string {
	tb.Helper()
	return run(tb, "ip", "netns", "exec", n.name, "nft", "list", "tables")
}

// echoServer listens on addr inside the namespace at path and answers every
// connection with "SERVER-ADDR CLIENT-ADDR\n": who answered, and the source
// address it saw.
func echoServer(tb testing.TB, path, addr string) {
	tb.Helper()
	serveIn(tb, path, addr, func(c net.Conn) {
		_, _ = fmt.Fprintf(c, "%s %s\n", c.LocalAddr(), c.RemoteAddr())
	})
}

// serveIn listens on addr inside the namespace at path until the test ends
// and hands each connection to handle, which runs on its own goroutine;
// the connection is closed when handle returns.
func serveIn(tb testing.TB, path, addr string, handle func(net.Conn)) {
	tb.Helper()
	var ln net.Listener
	err := nsthread.Run(path, func() error {
		var err error
		ln, err = net.Listen("tcp4", addr)
		return err
	})
	if err != nil {
		tb.Fatalf("listen on %s: %v", addr, err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
}

// ask connects from the namespace at path to addr and returns the server's
// answer: its own address and the client address it saw.
func ask(ctx context.Context, path, addr string) (server, client string, err error) {
	var c net.Conn
	err = nsthread.Run(path, func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, "tcp4", addr)
		return err
	})
	if err != nil {
		return "", "", err
	}
	defer c.Close()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", "", fmt.Errorf("read answer from %s: %w", addr, err)
	}
	f := strings.Fields(line)
	if len(f) != 2 {
		return "", "", fmt.Errorf("answer %q from %s", line, addr)
	}
	return f[0], f[1], nil
}

func hostOf(tb testing.TB, hostport string) string {
	tb.Helper()
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		tb.Fatal(err)
	}
	return ap.Addr().String()
}

// udpEchoServer answers every datagram on addr (in the namespace at path)
// with "SERVER-ADDR CLIENT-ADDR".
func udpEchoServer(tb testing.TB, path, addr string) {
	tb.Helper()
	var pc net.PacketConn
	err := nsthread.Run(path, func() error {
		var err error
		pc, err = net.ListenPacket("udp4", addr)
		return err
	})
	if err != nil {
		tb.Fatalf("listen udp on %s: %v", addr, err)
	}
	tb.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(fmt.Appendf(nil, "%s %s", pc.LocalAddr(), from), from)
		}
	}()
}

// askUDP sends one datagram from the namespace at path to addr and returns
// the answer's two fields. UDP may lose a datagram, so it retries until ctx
// ends.
func askUDP(ctx context.Context, path, addr string) (server, client string, err error) {
	var c net.Conn
	err = nsthread.Run(path, func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, "udp4", addr)
		return err
	})
	if err != nil {
		return "", "", err
	}
	defer c.Close()
	buf := make([]byte, 512)
	for ctx.Err() == nil {
		if _, err := c.Write([]byte("?")); err != nil {
			return "", "", err
		}
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := c.Read(buf)
		if err != nil {
			continue
		}
		f := strings.Fields(string(buf[:n]))
		if len(f) != 2 {
			return "", "", fmt.Errorf("answer %q from %s", buf[:n], addr)
		}
		return f[0], f[1], nil
	}
	return "", "", fmt.Errorf("no udp answer from %s: %w", addr, ctx.Err())
}
