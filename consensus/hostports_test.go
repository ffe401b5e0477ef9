package consensus

import (
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func hostNetCreate(name string, port int32) CreatePod {
	c := create(name, "64Mi")
	c.Pod.Spec.HostNetwork = true
	c.Pod.Spec.Containers[0].Ports = []api.ContainerPort{{ContainerPort: port, HostPort: port, Protocol: "TCP"}}
	return c
}

// A hostNetwork pod is bound with its node's IP (held by no pod block and
// shared by such pods), its port counts on the node, and a second pod
// claiming the port there is refused at commit; once the first finishes,
// the port is free again.
func TestBindHostNetworkPodTakesNodeIPAndItsPort(t *testing.T) {
	h := &harness{t: t, f: NewFSM(), idx: 0}
	h.must(node("node-a", "2Gi", "192.168.50.2"), ready("node-a"),
		hostNetCreate("agent", 9100), hostNetCreate("other", 9200), hostNetCreate("clash", 9100))
	res := h.mustResult(bind("agent", "node-a", ""))
	if res.Pod.Status.PodIP != "192.168.50.2" || res.Pod.Status.HostIP != "192.168.50.2" {
		t.Fatalf("podIP %q hostIP %q, want the node's 192.168.50.2", res.Pod.Status.PodIP, res.Pod.Status.HostIP)
	}
	h.must(bind("other", "node-a", ""))
	infos := h.f.NodeInfos()
	if got := infos[0].HostPorts; got["TCP/9100"] != 1 || got["TCP/9200"] != 1 || len(got) != 2 {
		t.Fatalf("node-a host ports = %v", got)
	}
	if _, err := h.do(bind("clash", "node-a", "")); err == nil || !strings.Contains(err.Error(), "host port TCP/9100 is taken") {
		t.Fatalf("bind of a second pod on TCP/9100: %v", err)
	}
	h.must(UpdatePodStatus{Namespace: "default", Name: "agent", UID: "uid-agent", Node: "node-a", Status: api.PodStatus{Phase: api.PodSucceeded}, Time: t0})
	h.must(bind("clash", "node-a", ""))
	h.f.mu.RLock()
	defer h.f.mu.RUnlock()
	if err := checkIndexes(h.f.st); err != nil {
		t.Fatal(err)
	}
}
