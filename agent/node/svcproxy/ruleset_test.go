package svcproxy

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"
)

func fakeProxy() (*Proxy, *knftables.Fake) {
	fake := knftables.NewFake(knftables.IPv4Family, DefaultTable)
	return newWith(Config{}, fake), fake
}

// dumpAfterFullSync is the table a fresh proxy writes for svcs.
func dumpAfterFullSync(t *testing.T, svcs []Service) string {
	t.Helper()
	p, fake := fakeProxy()
	if err := p.Sync(context.Background(), svcs); err != nil {
		t.Fatal(err)
	}
	return fake.Dump()
}

func TestIncrementalSyncEndsInTheSameTableAsAFullRebuild(t *testing.T) {
	steps := []struct {
		name string
		svcs []Service
	}{
		{"start", fleet(20, 3, -1, 0, 3)},
		{"endpoints of one service move", fleet(20, 3, 4, 1000, 3)},
		{"every service grows an endpoint", fleet(20, 4, -1, 0, 3)},
		{"services removed", fleet(5, 4, -1, 0, 3)},
		{"no endpoints anywhere", fleet(5, 0, -1, 0, 3)},
		{"endpoints back", fleet(8, 2, -1, 0, 3)},
		{"affinity dropped", func() []Service {
			s := fleet(8, 2, -1, 0, 3)
			for i := range s {
				s[i].SessionAffinity = nil
			}
			return s
		}()},
		{"nothing", nil},
		{"again", fleet(3, 1, -1, 0, 3)},
	}
	p, fake := fakeProxy()
	ctx := context.Background()
	for _, st := range steps {
		if err := p.Sync(ctx, st.svcs); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !p.known || p.pieces == nil {
			t.Fatalf("%s: sync did not record what it applied", st.name)
		}
		if got, want := fake.Dump(), dumpAfterFullSync(t, st.svcs); got != want {
			t.Fatalf("%s: incremental table differs from a full rebuild\n--- incremental\n%s\n--- full\n%s", st.name, got, want)
		}
	}
}

func TestUnchangedSyncWritesNothing(t *testing.T) {
	p, _ := fakeProxy()
	svcs := fleet(50, 3, -1, 0, 3)
	if err := p.Sync(context.Background(), svcs); err != nil {
		t.Fatal(err)
	}
	tx := p.nft.NewTransaction()
	writeDiff(tx, wholeRuleset(p.pieces), buildRuleset(svcs))
	if n := tx.NumOperations(); n != 0 {
		t.Fatalf("an unchanged sync has %d operations:\n%s", n, tx)
	}
}

func TestOneChangedServiceRewritesOnlyItsOwnObjects(t *testing.T) {
	p, _ := fakeProxy()
	if err := p.Sync(context.Background(), fleet(50, 3, -1, 0, 3)); err != nil {
		t.Fatal(err)
	}
	tx := p.nft.NewTransaction()
	writeDiff(tx, wholeRuleset(p.pieces), buildRuleset(fleet(50, 3, 7, 1000, 3)))
	for _, line := range strings.Split(strings.TrimSpace(tx.String()), "\n") {
		if !strings.Contains(line, "/svc7/") && !strings.Contains(line, "10.96.0.7 ") {
			t.Errorf("changing svc7 touched %q", line)
		}
	}
}

func TestRulesDNATToEveryReadyEndpointAndNeverSNAT(t *testing.T) {
	svc := Service{
		Namespace: "default", Name: "web", ClusterIP: netip.MustParseAddr("10.96.0.10"),
		Ports: []Port{{Name: "http", Protocol: TCP, Port: 80, TargetPort: 8080, NodePort: 30080}},
		Endpoints: []Endpoint{
			{IP: netip.MustParseAddr("10.244.1.5"), Ports: map[string]uint16{"http": 9090}},
			{IP: netip.MustParseAddr("10.244.2.7")}, // no named port: the numeric targetPort
		},
	}
	dump := dumpAfterFullSync(t, []Service{svc})
	for _, want := range []string{
		"10.96.0.10 . tcp . 80 : goto svc-",
		"tcp . 30080 : goto svc-",
		"meta l4proto tcp dnat ip to numgen random mod 2 map { 0 : 10.244.1.5 . 9090 , 1 : 10.244.2.7 . 8080 }",
		"type nat hook prerouting",
		"type nat hook output",
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("table lacks %q:\n%s", want, dump)
		}
	}
	for _, never := range []string{"masquerade", "snat"} {
		if strings.Contains(dump, never) {
			t.Errorf("table contains %q:\n%s", never, dump)
		}
	}
}

func TestServiceWithoutEndpointsRejectsAndHeadlessIsSkipped(t *testing.T) {
	svcs := []Service{
		{Namespace: "default", Name: "empty", ClusterIP: netip.MustParseAddr("10.96.0.11"),
			Ports: []Port{{Name: "http", Protocol: TCP, Port: 80, TargetPort: 8080, NodePort: 30081}}},
		{Namespace: "default", Name: "headless",
			Ports:     []Port{{Name: "http", Protocol: TCP, Port: 80, TargetPort: 8080}},
			Endpoints: []Endpoint{{IP: netip.MustParseAddr("10.244.1.5")}}},
	}
	dump := dumpAfterFullSync(t, svcs)
	for _, want := range []string{"10.96.0.11 . tcp . 80 : goto reject-chain", "tcp . 30081 : goto reject-chain"} {
		if !strings.Contains(dump, want) {
			t.Errorf("table lacks %q:\n%s", want, dump)
		}
	}
	if strings.Contains(dump, "10.244.1.5") {
		t.Errorf("headless service was proxied:\n%s", dump)
	}
}

func TestAffinityPinsAClientToItsLastEndpoint(t *testing.T) {
	svcs := fleet(1, 2, -1, 0, 3) // service 0 has affinity
	dump := dumpAfterFullSync(t, svcs)
	for _, want := range []string{"update @aff-", "ip saddr @aff-", "timeout 10800s", "flags dynamic,timeout", "numgen random mod 2 vmap { 0 : goto ep-", "meta l4proto tcp dnat to 10.244.0.1:8080"} {
		if !strings.Contains(dump, want) {
			t.Errorf("table lacks %q:\n%s", want, dump)
		}
	}
}

func TestExternalIPsAreServedAsTheClusterIPAndRejectWithoutEndpoints(t *testing.T) {
	svc := web(srv1IP)
	svc.ExternalIPs = []netip.Addr{netip.MustParseAddr("192.0.2.10")}
	if dump := dumpAfterFullSync(t, []Service{svc}); !strings.Contains(dump, "192.0.2.10 . tcp . 80 : goto svc-") {
		t.Errorf("table lacks the external IP's entry:\n%s", dump)
	}
	svc.Endpoints = nil
	if dump := dumpAfterFullSync(t, []Service{svc}); !strings.Contains(dump, "192.0.2.10 . tcp . 80 : goto reject-chain") {
		t.Errorf("table lacks the external IP's reject:\n%s", dump)
	}
	other := web(srv2IP)
	other.Name, other.ClusterIP = "other", netip.MustParseAddr("192.0.2.10")
	if err := Validate([]Service{svc, other}); err == nil || !strings.Contains(err.Error(), "192.0.2.10/TCP/80 is also served by default/web") {
		t.Errorf("an external IP and port another Service serves: %v", err)
	}
}
