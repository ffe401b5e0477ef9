package dns

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// cluster is a Lookup with a ClusterIP Service web, a headless Service db
// of three endpoints (one with a hostname) and a pod.
func cluster() *fakeLookup {
	l := newFakeLookup()
	l.setService("default", "web", Service{
		ClusterIP: netip.MustParseAddr("10.96.0.10"),
		Ports:     []Port{{Name: "http", Protocol: "TCP", Port: 80}, {Protocol: "TCP", Port: 81}},
		Endpoints: []Endpoint{{IP: netip.MustParseAddr("10.244.1.5")}},
	})
	l.setService("prod", "db", Service{
		Ports: []Port{{Name: "pg", Protocol: "TCP", Port: 5432}},
		Endpoints: []Endpoint{
			{IP: netip.MustParseAddr("10.244.1.7"), Hostname: "db-0"},
			{IP: netip.MustParseAddr("10.244.2.8")},
			{IP: netip.MustParseAddr("10.244.3.9")},
		},
	})
	l.addPod("default", "10.244.1.5")
	return l
}

func startServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLog()
	}
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func query(t testing.TB, addr, network, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg).SetQuestion(name, qtype)
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	resp, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	return resp
}

// rdata lists the answer section as "TYPE DATA TTL" strings, sorted.
func rdata(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		h := rr.Header()
		data := strings.TrimPrefix(rr.String(), h.String())
		out = append(out, fmt.Sprintf("%s %s %d", dns.TypeToString[h.Rrtype], data, h.Ttl))
	}
	slices.Sort(out)
	return out
}

func TestAnswersFromTheLookup(t *testing.T) {
	s := startServer(t, Config{Lookup: cluster()})
	cases := []struct {
		name   string
		qtype  uint16
		rcode  int
		answer []string
		extra  []string
	}{
		{"web.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"A 10.96.0.10 5"}, nil},
		{"WEB.Default.SVC.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"A 10.96.0.10 5"}, nil},
		{"db.prod.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess,
			[]string{"A 10.244.1.7 5", "A 10.244.2.8 5", "A 10.244.3.9 5"}, nil},
		{"db-0.db.prod.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"A 10.244.1.7 5"}, nil},
		{"10-244-2-8.db.prod.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"A 10.244.2.8 5"}, nil},
		{"_http._tcp.web.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeSuccess,
			[]string{"SRV 0 100 80 web.default.svc.cluster.local. 5"}, []string{"A 10.96.0.10 5"}},
		{"_pg._tcp.db.prod.svc.cluster.local.", dns.TypeSRV, dns.RcodeSuccess,
			[]string{
				"SRV 0 100 5432 10-244-2-8.db.prod.svc.cluster.local. 5",
				"SRV 0 100 5432 10-244-3-9.db.prod.svc.cluster.local. 5",
				"SRV 0 100 5432 db-0.db.prod.svc.cluster.local. 5",
			},
			[]string{"A 10.244.1.7 5", "A 10.244.2.8 5", "A 10.244.3.9 5"}},
		{"10-244-1-5.default.pod.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"A 10.244.1.5 5"}, nil},
		// The name exists, the type does not: NODATA, not NXDOMAIN.
		{"web.default.svc.cluster.local.", dns.TypeAAAA, dns.RcodeSuccess, nil, nil},
		// Unknown names inside the zone, as a search path produces them.
		{"web.default.svc.cluster.local.default.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil, nil},
		{"nope.default.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil, nil},
		{"web.other.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil, nil},
		{"_udp-dns._udp.web.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeNameError, nil, nil},
		{"db-0.web.default.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil, nil},
		{"10-244-9-9.default.pod.cluster.local.", dns.TypeA, dns.RcodeNameError, nil, nil},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, c := range cases {
			t.Run(network+"/"+c.name+"/"+dns.TypeToString[c.qtype], func(t *testing.T) {
				resp := query(t, s.Addr(), network, c.name, c.qtype)
				if resp.Rcode != c.rcode {
					t.Fatalf("rcode = %s, want %s", dns.RcodeToString[resp.Rcode], dns.RcodeToString[c.rcode])
				}
				if !resp.Authoritative {
					t.Error("answer inside the zone is not authoritative")
				}
				if got := rdata(resp.Answer); !slices.Equal(got, c.answer) {
					t.Errorf("answer = %q, want %q", got, c.answer)
				}
				if got := rdata(resp.Extra); !slices.Equal(got, c.extra) {
					t.Errorf("additional = %q, want %q", got, c.extra)
				}
				if len(resp.Answer) == 0 {
					if len(resp.Ns) != 1 || resp.Ns[0].Header().Rrtype != dns.TypeSOA || resp.Ns[0].(*dns.SOA).Minttl != 5 {
						t.Errorf("negative answer without the zone's SOA (min TTL 5): %v", resp.Ns)
					}
				}
			})
		}
	}
}

func TestAnswersFollowTheLookupWithoutCaching(t *testing.T) {
	l := cluster()
	s := startServer(t, Config{Lookup: l})
	name := "web.default.svc.cluster.local."
	l.setService("default", "web", Service{ClusterIP: netip.MustParseAddr("10.96.0.99")})
	if got := rdata(query(t, s.Addr(), "udp", name, dns.TypeA).Answer); !slices.Equal(got, []string{"A 10.96.0.99 5"}) {
		t.Fatalf("after change: %q", got)
	}
	l.deleteService("default", "web")
	if rc := query(t, s.Addr(), "udp", name, dns.TypeA).Rcode; rc != dns.RcodeNameError {
		t.Fatalf("after delete: rcode %s, want NXDOMAIN", dns.RcodeToString[rc])
	}
}

func TestNamesOutsideTheZoneAreRefusedWithoutUpstream(t *testing.T) {
	s := startServer(t, Config{Lookup: cluster()})
	for _, network := range []string{"udp", "tcp"} {
		if rc := query(t, s.Addr(), network, "example.com.", dns.TypeA).Rcode; rc != dns.RcodeRefused {
			t.Errorf("%s: rcode %s, want REFUSED", network, dns.RcodeToString[rc])
		}
	}
}

func TestNamesOutsideTheZoneGoToTheUpstream(t *testing.T) {
	// The upstream is another server on loopback that knows one name.
	up := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg).SetReply(r)
		if r.Question[0].Name == "example.com." {
			rr, _ := dns.NewRR("example.com. 60 IN A 192.0.2.1")
			m.Answer = append(m.Answer, rr)
		} else {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	upstream := startRawServer(t, up)
	// The first upstream does not answer at all; the second does.
	dead := startRawServer(t, dns.HandlerFunc(func(dns.ResponseWriter, *dns.Msg) {}))
	s := startServer(t, Config{Lookup: cluster(), Upstreams: []string{dead, upstream}, UpstreamTimeout: 200 * time.Millisecond})
	for _, network := range []string{"udp", "tcp"} {
		resp := query(t, s.Addr(), network, "example.com.", dns.TypeA)
		if got := rdata(resp.Answer); !slices.Equal(got, []string{"A 192.0.2.1 60"}) {
			t.Errorf("%s: answer %q", network, got)
		}
		if rc := query(t, s.Addr(), network, "missing.example.com.", dns.TypeA).Rcode; rc != dns.RcodeNameError {
			t.Errorf("%s: upstream's NXDOMAIN became %s", network, dns.RcodeToString[rc])
		}
	}
	// The zone itself is still answered here, never forwarded.
	if got := rdata(query(t, s.Addr(), "udp", "web.default.svc.cluster.local.", dns.TypeA).Answer); !slices.Equal(got, []string{"A 10.96.0.10 5"}) {
		t.Errorf("in-zone answer with upstreams: %q", got)
	}
}

func TestAllUpstreamsDownIsServfail(t *testing.T) {
	dead := startRawServer(t, dns.HandlerFunc(func(dns.ResponseWriter, *dns.Msg) {}))
	s := startServer(t, Config{Lookup: cluster(), Upstreams: []string{dead}, UpstreamTimeout: 100 * time.Millisecond})
	if rc := query(t, s.Addr(), "udp", "example.com.", dns.TypeA).Rcode; rc != dns.RcodeServerFailure {
		t.Fatalf("rcode %s, want SERVFAIL", dns.RcodeToString[rc])
	}
}

func TestLargeHeadlessAnswerIsTruncatedOverUDPAndWholeOverTCP(t *testing.T) {
	l := newFakeLookup()
	var eps []Endpoint
	for i := range 100 {
		eps = append(eps, Endpoint{IP: netip.AddrFrom4([4]byte{10, 244, 0, byte(i)})})
	}
	l.setService("default", "big", Service{Endpoints: eps})
	s := startServer(t, Config{Lookup: l})
	name := "big.default.svc.cluster.local."
	udp := query(t, s.Addr(), "udp", name, dns.TypeA)
	if !udp.Truncated || len(udp.Answer) >= 100 {
		t.Errorf("udp: truncated=%t with %d answers, want the TC bit and fewer than 100", udp.Truncated, len(udp.Answer))
	}
	if tcp := query(t, s.Addr(), "tcp", name, dns.TypeA); tcp.Truncated || len(tcp.Answer) != 100 {
		t.Errorf("tcp: truncated=%t with %d answers, want all 100", tcp.Truncated, len(tcp.Answer))
	}
}

func TestConfigRefusesBadFieldsByName(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Addr: "127.0.0.1:0"}, "Lookup"},
		{Config{Addr: "nope", Lookup: cluster()}, `Addr "nope"`},
		{Config{Addr: "127.0.0.1:0", Lookup: cluster(), TTL: time.Millisecond}, "TTL 1ms"},
		{Config{Addr: "127.0.0.1:0", Lookup: cluster(), Upstreams: []string{"8.8.8.8"}}, `Upstreams[0] "8.8.8.8"`},
		{Config{Addr: "127.0.0.1:0", Lookup: cluster(), Zone: "bad..zone"}, "Zone"},
	}
	for _, c := range cases {
		if _, err := Start(context.Background(), c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Start(%+v) = %v, want an error naming %q", c.cfg, err, c.want)
		}
	}
}

// startRawServer runs a plain miekg/dns server on loopback (UDP and TCP on
// one port) with handler h, as a stand-in upstream.
func startRawServer(t testing.TB, h dns.Handler) string {
	t.Helper()
	pc, ln, err := listenBoth(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return ln.Addr().String()
}
