package svcproxy

import (
	"net/netip"
	"slices"
	"testing"
)

func dnsSvc(nodePort uint16, eps ...string) Service {
	s := Service{
		Namespace: "kube-system", Name: "dns", ClusterIP: netip.MustParseAddr(vip),
		Ports: []Port{
			{Name: "dns", Protocol: UDP, Port: 53, TargetPort: 5353, NodePort: nodePort},
			{Name: "dns-tcp", Protocol: TCP, Port: 53, TargetPort: 5353},
		},
	}
	for _, ip := range eps {
		s.Endpoints = append(s.Endpoints, Endpoint{IP: netip.MustParseAddr(ip)})
	}
	return s
}

func TestStaleFlowsNameWhatTheRulesNoLongerSendThere(t *testing.T) {
	a, b := netip.MustParseAddr(srv1IP), netip.MustParseAddr(srv2IP)
	v := netip.MustParseAddr(vip)
	moved := dnsSvc(0, srv1IP)
	moved.ClusterIP = netip.MustParseAddr("10.96.0.11")
	cases := []struct {
		name     string
		old, new []Service
		want     []staleFlow
	}{
		{"nothing changed", []Service{dnsSvc(0, srv1IP, srv2IP)}, []Service{dnsSvc(0, srv2IP, srv1IP)}, nil},
		{"an endpoint added", []Service{dnsSvc(0, srv1IP)}, []Service{dnsSvc(0, srv1IP, srv2IP)}, nil},
		{"an endpoint removed", []Service{dnsSvc(0, srv1IP, srv2IP)}, []Service{dnsSvc(0, srv2IP)},
			[]staleFlow{{dst: v, port: 53, endpoint: a}}},
		{"an endpoint removed, nodePort too", []Service{dnsSvc(30053, srv1IP, srv2IP)}, []Service{dnsSvc(30053, srv1IP)},
			[]staleFlow{{dst: v, port: 53, endpoint: b}, {port: 30053, endpoint: b}}},
		{"the last endpoint removed", []Service{dnsSvc(0, srv1IP)}, []Service{dnsSvc(0)},
			[]staleFlow{{dst: v, port: 53, endpoint: a}}},
		{"the first endpoint after none", []Service{dnsSvc(0)}, []Service{dnsSvc(0, srv1IP)},
			[]staleFlow{{dst: v, port: 53}}},
		{"a new Service with endpoints", nil, []Service{dnsSvc(0, srv1IP)}, []staleFlow{{dst: v, port: 53}}},
		{"the Service deleted", []Service{dnsSvc(30053, srv1IP)}, nil,
			[]staleFlow{{dst: v, port: 53}, {port: 30053}}},
		{"the ClusterIP changed", []Service{dnsSvc(0, srv1IP)}, []Service{moved},
			[]staleFlow{{dst: v, port: 53}, {dst: moved.ClusterIP, port: 53}}},
		{"TCP only", []Service{web(srv1IP)}, []Service{web()}, nil},
	}
	key := func(f staleFlow) string { return f.String() }
	for _, c := range cases {
		got := staleFlows(c.old, c.new)
		gotKeys, wantKeys := make([]string, 0, len(got)), make([]string, 0, len(c.want))
		for _, f := range got {
			gotKeys = append(gotKeys, key(f))
		}
		for _, f := range c.want {
			wantKeys = append(wantKeys, key(f))
		}
		slices.Sort(gotKeys)
		slices.Sort(wantKeys)
		if !slices.Equal(gotKeys, wantKeys) {
			t.Errorf("%s: stale flows %v, want %v", c.name, gotKeys, wantKeys)
		}
	}
}
