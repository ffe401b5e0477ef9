package svcproxy

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestSyncRefusesBadInputNamingTheFieldAndChangesNothing(t *testing.T) {
	ok := func() Service {
		return Service{Namespace: "default", Name: "web", ClusterIP: netip.MustParseAddr("10.96.0.10"),
			Ports:     []Port{{Name: "http", Protocol: TCP, Port: 80, TargetPort: 8080}},
			Endpoints: []Endpoint{{IP: netip.MustParseAddr("10.244.1.5")}}}
	}
	cases := []struct {
		name  string
		edit  func(s []Service) []Service
		wants string
	}{
		{"no name", func(s []Service) []Service { s[0].Name = ""; return s }, "services[0]: namespace"},
		{"ipv6 clusterIP", func(s []Service) []Service { s[0].ClusterIP = netip.MustParseAddr("fd00::1"); return s }, "services[0](default/web).clusterIP: fd00::1"},
		{"port zero", func(s []Service) []Service { s[0].Ports[0].Port = 0; return s }, "ports[0].port: 0"},
		{"bad protocol", func(s []Service) []Service { s[0].Ports[0].Protocol = "SCTP"; return s }, `ports[0].protocol: "SCTP"`},
		{"duplicate port name", func(s []Service) []Service {
			s[0].Ports = append(s[0].Ports, Port{Name: "http", Protocol: UDP, Port: 81})
			return s
		}, `ports[1].name: "http": duplicate`},
		{"same VIP twice", func(s []Service) []Service {
			o := ok()
			o.Name = "other"
			return append(s, o)
		}, "10.96.0.10/TCP/80 is also served by default/web"},
		{"duplicate service", func(s []Service) []Service { return append(s, ok()) }, "duplicate of services[0]"},
		{"nodePort twice", func(s []Service) []Service {
			o := ok()
			o.Name, o.ClusterIP = "other", netip.MustParseAddr("10.96.0.11")
			s[0].Ports[0].NodePort, o.Ports[0].NodePort = 30000, 30000
			return append(s, o)
		}, "nodePort: 30000: also used by default/web"},
		{"short affinity", func(s []Service) []Service {
			s[0].SessionAffinity = &ClientIPAffinity{Timeout: time.Millisecond}
			return s
		}, "sessionAffinity.timeout"},
		{"ipv6 endpoint", func(s []Service) []Service { s[0].Endpoints[0].IP = netip.MustParseAddr("fd00::5"); return s }, "endpoints[0].ip: fd00::5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, fake := fakeProxy()
			ctx := context.Background()
			if err := p.Sync(ctx, []Service{ok()}); err != nil {
				t.Fatal(err)
			}
			before := fake.Dump()
			err := p.Sync(ctx, c.edit([]Service{ok()}))
			if err == nil || !strings.Contains(err.Error(), c.wants) {
				t.Fatalf("error = %v, want one containing %q", err, c.wants)
			}
			if fake.Dump() != before {
				t.Fatal("refused input changed the table")
			}
		})
	}
}
