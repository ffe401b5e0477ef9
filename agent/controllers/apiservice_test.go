package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

// The `kubernetes` Service takes the range's first address and port 443,
// its endpoints follow the alive agents' API addresses, and a pass that
// finds them current writes nothing.
func TestAPIServiceFollowsTheAliveAgents(t *testing.T) {
	fleet := &fakeFleet{members: []Member{
		{Name: "a", Alive: true, API: "10.0.0.1:7080"},
		{Name: "b", Alive: true, API: "10.0.0.2:7080"},
		{Name: "c", Alive: false, API: "10.0.0.3:7080"},
	}}
	l, s := testLeader(t, Config{Liveness: liveness.WithGrace(time.Second), ServiceCIDR: "10.100.0.0/16"}, Deps{Members: fleet})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ip, err := APIServiceIP("10.100.0.0/16")
	if err != nil || ip.String() != "10.100.0.1" {
		t.Fatalf("APIServiceIP = %v, %v", ip, err)
	}
	endpoints := func() []string {
		t.Helper()
		if err := l.syncAPIService(ctx, s.FSM, ip); err != nil {
			t.Fatal(err)
		}
		eps, _ := s.FSM.ListEndpoints(func(e *api.Endpoints) bool { return e.Name == "kubernetes" })
		sl, _ := s.FSM.EndpointSlices(func(e *api.EndpointSlice) bool { return e.Name == "kubernetes" })
		if len(eps) != 1 || len(sl) != 1 || len(eps[0].Subsets) != 1 || eps[0].Subsets[0].Ports[0].Port != 7080 {
			t.Fatalf("endpoints %+v, slices %+v", eps, sl)
		}
		var ips []string
		for _, a := range eps[0].Subsets[0].Addresses {
			ips = append(ips, a.IP)
		}
		if len(sl[0].Endpoints) != len(ips) {
			t.Fatalf("slice %+v does not match endpoints %v", sl[0].Endpoints, ips)
		}
		return ips
	}
	if got := endpoints(); len(got) != 2 || got[0] != "10.0.0.1" || got[1] != "10.0.0.2" {
		t.Fatalf("endpoints %v, want the two alive agents", got)
	}
	svcs, _ := s.FSM.Services(func(s *api.Service) bool { return s.Name == "kubernetes" && s.Namespace == "default" })
	if len(svcs) != 1 || svcs[0].Spec.ClusterIP != "10.100.0.1" || svcs[0].Spec.Ports[0].Port != 443 || svcs[0].Spec.Ports[0].TargetPort.IntValue() != 7080 {
		t.Fatalf("service %+v", svcs)
	}
	before := s.FSM.Index()
	endpoints()
	if after := s.FSM.Index(); after != before {
		t.Fatalf("a pass with nothing to change wrote (index %d -> %d)", before, after)
	}
	fleet.mu.Lock()
	fleet.members[0].Alive = false
	fleet.mu.Unlock()
	if got := endpoints(); len(got) != 1 || got[0] != "10.0.0.2" {
		t.Fatalf("endpoints after a loss %v", got)
	}
}
