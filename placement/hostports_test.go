package placement

import (
	"errors"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func hostNetPod(ports ...int32) *api.Pod {
	p := pod("64Mi")
	p.Spec.HostNetwork = true
	for _, port := range ports {
		p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, api.ContainerPort{ContainerPort: port, HostPort: port, Protocol: "TCP"})
	}
	return p
}

// A hostNetwork pod skips a node where another holds one of its ports and
// lands where the port is free; with none free, placement says why in
// Kubernetes' words.
func TestHostNetworkPodSkipsNodesWithItsPortTaken(t *testing.T) {
	a, b := node("a", "1Gi", "2", nil), node("b", "1Gi", "2", nil)
	a.HostPorts = map[string]int{"TCP/9100": 1}
	b.HostPorts = map[string]int{"UDP/9100": 1, "TCP/80": 1}
	p := hostNetPod(9100)
	got, _, err := Choose(p, []NodeInfo{a, b})
	if err != nil || got != "b" {
		t.Fatalf("Choose = %q, %v; want b (TCP/9100 is taken on a, UDP/9100 on b is another port)", got, err)
	}
	if ok, why := Fits(p, a); ok || why != "a: host port TCP/9100 is taken by a hostNetwork pod" {
		t.Fatalf("Fits(a) = %v %q", ok, why)
	}
	b.HostPorts["TCP/9100"] = 1
	_, f, err := Choose(p, []NodeInfo{a, b})
	if !errors.Is(err, ErrNoFit) || f == nil {
		t.Fatalf("Choose = %v, want ErrNoFit", err)
	}
	if msg := f.String(); !strings.HasPrefix(msg, "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports (a: host port TCP/9100") {
		t.Fatalf("NoFit = %q", msg)
	}
	// A pod with its own network takes no node port.
	own := hostNetPod(9100)
	own.Spec.HostNetwork = false
	if ok, why := Fits(own, a); !ok {
		t.Fatalf("a pod with its own network does not fit: %s", why)
	}
}
