package lab

import (
	"net/netip"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"demo", true},
		{"my-lab", true},
		{"lab2", true},
		{"a", true},
		{"", false},
		{"-x", false},
		{"x-", false},
		{"Upper", false},
		{"has_underscore", false},
		{"a-n1", false},    // would read as node n1 of lab a
		{"a-n12-b", false}, // would read as a pod netns of lab a
		{"n3", false},
		{"a-nx", true},
		{"a-n1x", true},
		{strings.Repeat("x", 33), false},
	} {
		err := ValidateName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestDefaultsFillServersResourcesAndRanges(t *testing.T) {
	cfg, err := Config{Name: "x", Nodes: 2, AgentBinary: "/bin/true"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Servers != 2 || cfg.PodCIDR != "10.244.0.0/16" || cfg.StateRoot != DefaultStateRoot {
		t.Errorf("defaults: servers %d pod %s root %s", cfg.Servers, cfg.PodCIDR, cfg.StateRoot)
	}
	if perNode(cfg.NodeMemory, 1) != "2Gi" || perNode(cfg.NodeCPU, 0) != "2" {
		t.Errorf("resource defaults: %v %v", cfg.NodeMemory, cfg.NodeCPU)
	}
	cfg, _ = Config{Name: "x", Nodes: 7, AgentBinary: "/bin/true"}.withDefaults()
	if cfg.Servers != 3 {
		t.Errorf("servers for 7 nodes = %d, want 3", cfg.Servers)
	}
	for _, bad := range []Config{
		{Name: "x", Nodes: 0},
		{Name: "x", Nodes: 2, Servers: 3},
		{Name: "bad name", Nodes: 1},
	} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("withDefaults(%+v) accepted", bad)
		}
	}
}

func TestPerNodeRepeatsLastEntry(t *testing.T) {
	list := []string{"1.25Gi", "2Gi"}
	got := []string{perNode(list, 0), perNode(list, 1), perNode(list, 2), perNode(list, 5)}
	want := []string{"1.25Gi", "2Gi", "2Gi", "2Gi"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("perNode = %v, want %v", got, want)
		}
	}
}

func TestAddrPlanPutsHostAtDotOneAndNodesFromDotEleven(t *testing.T) {
	plan, err := newAddrPlan(netip.MustParsePrefix("10.250.3.0/24"), 3)
	if err != nil {
		t.Fatal(err)
	}
	if plan.hostPrefix().String() != "10.250.3.1/24" {
		t.Errorf("host = %s", plan.hostPrefix())
	}
	if plan.nodePrefix(1).String() != "10.250.3.11/24" || plan.node(3).String() != "10.250.3.13" {
		t.Errorf("nodes = %s, %s", plan.nodePrefix(1), plan.node(3))
	}
	if _, err := newAddrPlan(netip.MustParsePrefix("10.250.3.0/28"), 5); err == nil {
		t.Error("a /28 cannot hold .15 as a node address, but was accepted")
	}
	if _, err := newAddrPlan(netip.MustParsePrefix("10.250.3.0/24"), 245); err == nil {
		t.Error("245 nodes reach the broadcast address, but were accepted")
	}
}

func TestChooseLabCIDRSkipsHostRoutesOtherLabsAndPods(t *testing.T) {
	routes := []hostRoute{{Dst: netip.MustParsePrefix("10.250.0.0/23"), Desc: "10.250.0.0/23 dev eth1"}}
	taken := []netip.Prefix{netip.MustParsePrefix("10.250.2.0/24")}
	got, err := chooseLabCIDR(routes, taken, netip.MustParsePrefix("10.250.3.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != "10.250.4.0/24" {
		t.Errorf("chose %s, want 10.250.4.0/24", got)
	}
	_, err = chooseLabCIDR([]hostRoute{{Dst: netip.MustParsePrefix("10.250.0.0/16")}}, nil, netip.MustParsePrefix("10.244.0.0/16"))
	if err == nil {
		t.Error("chose a range inside a host route")
	}
}

func TestOverlapErrorNamesRangeAndRoute(t *testing.T) {
	routes := []hostRoute{{Dst: netip.MustParsePrefix("10.244.8.0/24"), Desc: "10.244.8.0/24 dev wg0"}}
	err := checkOverlap("pod CIDR", netip.MustParsePrefix("10.244.0.0/16"), routes)
	if err == nil || !strings.Contains(err.Error(), "10.244.0.0/16") || !strings.Contains(err.Error(), "10.244.8.0/24 dev wg0") {
		t.Errorf("error %v does not name both ranges", err)
	}
	if checkOverlap("pod CIDR", netip.MustParsePrefix("10.245.0.0/16"), routes) != nil {
		t.Error("disjoint ranges reported as overlapping")
	}
}

func TestOwnedNamesDoNotReachOtherLabs(t *testing.T) {
	re := ownedNetnsRE("a")
	for ns, want := range map[string]bool{
		"shoal-a-n1":            true,
		"shoal-a-n12-pod-xyz":   true,
		"shoal-a":               false, // the lab namespace is handled by name
		"shoal-ab-n1":           false,
		"shoal-a-b-n1":          false,
		"shoal-a-nx":            false,
		"other-shoal-a-n1":      false,
		"shoal-a-n1x-something": false,
	} {
		if re.MatchString(ns) != want {
			t.Errorf("ownedNetnsRE(a) on %q = %v, want %v", ns, !want, want)
		}
	}
	// Leftovers and the tests' checks go by ownsNetns: lab a-b up is not
	// something lab a left behind.
	for ns, want := range map[string]bool{
		"shoal-a": true, "shoal-a-n1": true, "shoal-a-n1-pod": true, GuestNetns("a"): true,
		"shoal-a-b": false, "shoal-a-b-n1": false, "shoal-a-b-n1-pod": false, GuestNetns("a-b"): false,
	} {
		if ownsNetns("a", ns) != want {
			t.Errorf("ownsNetns(a, %q) = %v, want %v", ns, !want, want)
		}
	}
	if !ownedContainerdNSRE("a").MatchString("shoal-a-n3") || ownedContainerdNSRE("a").MatchString("shoal-a-b-n3") {
		t.Error("containerd namespace pattern reaches the wrong labs")
	}
	if len(hostLinkName(strings.Repeat("z", 32))) > 15 {
		t.Error("host link name longer than IFNAMSIZ")
	}
}

func TestEnvPointsAtFirstNode(t *testing.T) {
	l := &Lab{Name: "demo", Nodes: []Node{{Name: "n1", Addr: "10.250.0.11"}, {Name: "n2", Addr: "10.250.0.12"}}}
	want := "export SHOAL_ADDR=http://10.250.0.11:7080\nexport SHOAL_LAB=demo\n"
	if got := l.Env(); got != want {
		t.Errorf("Env() = %q, want %q", got, want)
	}
}

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/var/lib/a\040b`); got != "/var/lib/a b" {
		t.Errorf("got %q", got)
	}
}

func TestAgentArgsRouteTheServiceRangeInsideEveryNode(t *testing.T) {
	cfg, err := Config{Name: "x", Nodes: 2, AgentBinary: "/bin/true"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ServiceCIDR != "10.96.0.0/16" {
		t.Fatalf("default service CIDR %q", cfg.ServiceCIDR)
	}
	l := &Lab{Name: "x", ServiceCIDR: cfg.ServiceCIDR, Nodes: []Node{{Name: "n1"}, {Name: "n2"}}}
	args := strings.Join(agentArgs("/bin/shoal", l, l.Nodes[1]), " ")
	if !strings.Contains(args, " --service-cidr 10.96.0.0/16 --service-route") {
		t.Errorf("agent args lack the service range and its route: %s", args)
	}
	// A lab recorded before Services (no range in its state) restarts its
	// agents with their defaults.
	old := &Lab{Name: "x", Nodes: []Node{{Name: "n1"}}}
	if args := strings.Join(agentArgs("/bin/shoal", old, old.Nodes[0]), " "); strings.Contains(args, "--service") {
		t.Errorf("an old lab's agents got service flags: %s", args)
	}
}
