package svcproxy

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	clientIP = "10.244.1.2"
	srv1IP   = "10.244.1.3"
	srv2IP   = "10.244.1.4"
	vip      = "10.96.0.10"
)

func web(eps ...string) Service {
	s := Service{
		Namespace: "default", Name: "web", ClusterIP: netip.MustParseAddr(vip),
		Ports: []Port{{Name: "http", Protocol: TCP, Port: 80, TargetPort: 8080, NodePort: 30080}},
	}
	for _, ip := range eps {
		s.Endpoints = append(s.Endpoints, Endpoint{IP: netip.MustParseAddr(ip), Ports: map[string]uint16{"http": 8080}})
	}
	return s
}

// servedBy connects `tries` times from the namespace at path to addr,
// checks every server saw want as the client's address, and counts answers
// per server IP.
func servedBy(t *testing.T, path, addr, want string, tries int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for range tries {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		server, client, err := ask(ctx, path, addr)
		cancel()
		if err != nil {
			t.Fatalf("connect to %s: %v", addr, err)
		}
		if got := hostOf(t, client); got != want {
			t.Fatalf("server %s saw client %s, want %s (the source must not be rewritten)", server, got, want)
		}
		seen[hostOf(t, server)]++
	}
	return seen
}

func TestClusterIPReachesEveryEndpointKeepsClientIPAndFollowsChanges(t *testing.T) {
	n := newNode(t)
	client := n.pod(t, "client", clientIP)
	echoServer(t, n.pod(t, "srv1", srv1IP), srv1IP+":8080")
	echoServer(t, n.pod(t, "srv2", srv2IP), srv2IP+":8080")
	p := n.proxy(t)
	ctx := t.Context()

	if err := p.Sync(ctx, []Service{web(srv1IP, srv2IP)}); err != nil {
		t.Fatal(err)
	}
	// 40 tries miss one of two equal endpoints with probability 2^-39.
	seen := servedBy(t, client, vip+":80", clientIP, 40)
	if seen[srv1IP] == 0 || seen[srv2IP] == 0 || len(seen) != 2 {
		t.Fatalf("answers per server = %v, want both endpoints", seen)
	}

	t.Run("pod to pod is untouched", func(t *testing.T) {
		if seen := servedBy(t, client, srv1IP+":8080", clientIP, 3); seen[srv1IP] != 3 {
			t.Fatalf("answers per server = %v, want all from %s", seen, srv1IP)
		}
	})

	t.Run("endpoint removed", func(t *testing.T) {
		if err := p.Sync(ctx, []Service{web(srv2IP)}); err != nil {
			t.Fatal(err)
		}
		if seen := servedBy(t, client, vip+":80", clientIP, 20); seen[srv2IP] != 20 {
			t.Fatalf("answers per server = %v, want all from %s", seen, srv2IP)
		}
	})

	t.Run("external IP", func(t *testing.T) {
		svc := web(srv2IP)
		svc.ExternalIPs = []netip.Addr{netip.MustParseAddr("10.250.0.7")}
		if err := p.Sync(ctx, []Service{svc}); err != nil {
			t.Fatal(err)
		}
		if seen := servedBy(t, client, "10.250.0.7:80", clientIP, 5); seen[srv2IP] != 5 {
			t.Fatalf("answers per server = %v, want all from %s", seen, srv2IP)
		}
	})

	t.Run("nodePort on the node's address", func(t *testing.T) {
		if seen := servedBy(t, client, nodeAddr+":30080", clientIP, 5); seen[srv2IP] != 5 {
			t.Fatalf("answers per server = %v, want all from %s", seen, srv2IP)
		}
	})

	t.Run("from the node's own namespace", func(t *testing.T) {
		if seen := servedBy(t, n.path, vip+":80", nodeAddr, 5); seen[srv2IP] != 5 {
			t.Fatalf("answers per server = %v, want all from %s", seen, srv2IP)
		}
	})

	t.Run("no endpoints refuses", func(t *testing.T) {
		if err := p.Sync(ctx, []Service{web()}); err != nil {
			t.Fatal(err)
		}
		for _, from := range []struct{ name, path, addr string }{
			{"pod to clusterIP", client, vip + ":80"},
			{"pod to nodePort", client, nodeAddr + ":30080"},
			{"node to clusterIP", n.path, vip + ":80"},
		} {
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, _, err := ask(dctx, from.path, from.addr)
			cancel()
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("%s: err = %v, want connection refused", from.name, err)
			}
		}
	})

	t.Run("endpoint back", func(t *testing.T) {
		if err := p.Sync(ctx, []Service{web(srv1IP)}); err != nil {
			t.Fatal(err)
		}
		if seen := servedBy(t, client, vip+":80", clientIP, 10); seen[srv1IP] != 10 {
			t.Fatalf("answers per server = %v, want all from %s", seen, srv1IP)
		}
	})

	t.Run("close removes the table", func(t *testing.T) {
		if !strings.Contains(n.tables(t), "table ip "+DefaultTable) {
			t.Fatalf("table ip %s missing before close:\n%s", DefaultTable, n.tables(t))
		}
		if err := p.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if tables := n.tables(t); strings.Contains(tables, DefaultTable) {
			t.Fatalf("table still there after close:\n%s", tables)
		}
		if err := p.Sync(ctx, []Service{web(srv1IP)}); err == nil {
			t.Fatal("sync after close succeeded")
		}
	})
	assertHostHasNoTable(t)
}

func TestUDPThroughClusterIPKeepsClientIP(t *testing.T) {
	n := newNode(t)
	client := n.pod(t, "client", clientIP)
	udpEchoServer(t, n.pod(t, "srv1", srv1IP), srv1IP+":5353")
	p := n.proxy(t)
	s := Service{
		Namespace: "kube-system", Name: "dns", ClusterIP: netip.MustParseAddr(vip),
		Ports:     []Port{{Name: "dns", Protocol: UDP, Port: 53, TargetPort: 5353}},
		Endpoints: []Endpoint{{IP: netip.MustParseAddr(srv1IP)}},
	}
	if err := p.Sync(t.Context(), []Service{s}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	server, from, err := askUDP(ctx, client, vip+":53")
	if err != nil {
		t.Fatal(err)
	}
	if hostOf(t, server) != srv1IP || hostOf(t, from) != clientIP {
		t.Fatalf("server %s saw %s, want %s seeing %s", server, from, srv1IP, clientIP)
	}
	assertHostHasNoTable(t)
}

func TestClientIPAffinityKeepsAClientOnOneEndpoint(t *testing.T) {
	n := newNode(t)
	client := n.pod(t, "client", clientIP)
	echoServer(t, n.pod(t, "srv1", srv1IP), srv1IP+":8080")
	echoServer(t, n.pod(t, "srv2", srv2IP), srv2IP+":8080")
	p := n.proxy(t)
	s := web(srv1IP, srv2IP)
	s.SessionAffinity = &ClientIPAffinity{Timeout: time.Minute}
	if err := p.Sync(t.Context(), []Service{s}); err != nil {
		t.Fatal(err)
	}
	if seen := servedBy(t, client, vip+":80", clientIP, 20); len(seen) != 1 {
		t.Fatalf("answers per server = %v, want one server for one client", seen)
	}
	assertHostHasNoTable(t)
}

func TestNewProxyOverLeftoverTableReplacesIt(t *testing.T) {
	n := newNode(t)
	client := n.pod(t, "client", clientIP)
	echoServer(t, n.pod(t, "srv1", srv1IP), srv1IP+":8080")
	echoServer(t, n.pod(t, "srv2", srv2IP), srv2IP+":8080")
	// A previous agent left rules sending the VIP to srv2 and never closed.
	old, err := New(Config{NetNS: n.path, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Sync(t.Context(), []Service{web(srv2IP)}); err != nil {
		t.Fatal(err)
	}
	p := n.proxy(t)
	if err := p.Sync(t.Context(), []Service{web(srv1IP)}); err != nil {
		t.Fatal(err)
	}
	if seen := servedBy(t, client, vip+":80", clientIP, 10); seen[srv1IP] != 10 {
		t.Fatalf("answers per server = %v, want all from %s", seen, srv1IP)
	}
}

// assertHostHasNoTable checks the test process's own namespace never got
// the proxy's table.
func assertHostHasNoTable(t *testing.T) {
	t.Helper()
	if out := run(t, "nft", "list", "tables"); strings.Contains(out, DefaultTable) {
		t.Errorf("host namespace has table %s:\n%s", DefaultTable, out)
	}
}

func TestSyncRebuildsATableRemovedBehindItsBack(t *testing.T) {
	n := newNode(t)
	client := n.pod(t, "client", clientIP)
	echoServer(t, n.pod(t, "srv1", srv1IP), srv1IP+":8080")
	echoServer(t, n.pod(t, "srv2", srv2IP), srv2IP+":8080")
	p := n.proxy(t)
	if err := p.Sync(t.Context(), []Service{web(srv1IP)}); err != nil {
		t.Fatal(err)
	}
	run(t, "ip", "netns", "exec", n.name, "nft", "delete", "table", "ip", DefaultTable)
	if err := p.Sync(t.Context(), []Service{web(srv2IP)}); err != nil {
		t.Fatal(err)
	}
	if seen := servedBy(t, client, vip+":80", clientIP, 5); seen[srv2IP] != 5 {
		t.Fatalf("answers per server = %v, want all from %s", seen, srv2IP)
	}
}
