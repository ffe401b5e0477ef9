package consensus

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

// A batch is one entry, and each bind in it sees the usage of the binds
// before it: a node of 1Gi takes three pods of 300Mi from a batch of five,
// never four, and the two refused change nothing.
func TestBindPodsNeverOvercommitsANodeWithinOneEntry(t *testing.T) {
	h := newHarness(t)
	h.must(node("node-a", "1Gi", "192.168.50.2"), ready("node-a"))
	var binds []BindPod
	for i := 0; i < 5; i++ {
		name := fmt.Sprintf("p%d", i)
		h.must(create(name, "300Mi"))
		binds = append(binds, bind(name, "node-a", fmt.Sprintf("10.244.0.%d", 2+i)))
	}
	before := h.idx
	res := h.mustResult(BindPods{Binds: binds})
	if h.idx != before+1 || res.Index != before+1 {
		t.Fatalf("batch took entries %d..%d, want one", before+1, h.idx)
	}
	if len(res.Each) != 5 {
		t.Fatalf("Each has %d answers, want one per bind", len(res.Each))
	}
	for i, err := range res.Each {
		switch {
		case i < 3 && err != nil:
			t.Errorf("bind %d: %v, want bound (%d of 1Gi used before it)", i, err, 300*i)
		case i >= 3 && (err == nil || !strings.Contains(err.Error(), "does not fit")):
			t.Errorf("bind %d: %v, want refused as not fitting", i, err)
		}
	}
	info := h.f.NodeInfos()[0]
	if info.Pods != 3 {
		t.Fatalf("node-a counts %d pods, want 3", info.Pods)
	}
	if used := info.Requested[api.ResourceMemory]; used.Cmp(info.Node.Status.Allocatable[api.ResourceMemory]) > 0 {
		t.Fatalf("node-a over-committed: %s used of %s", used.String(), info.Node.Status.Allocatable.Memory())
	}
	for i := 3; i < 5; i++ {
		p, err := h.f.Pod("default", fmt.Sprintf("p%d", i))
		if err != nil || Bound(p) || p.Status.PodIP != "" {
			t.Errorf("refused p%d: %+v %v, want still pending without an IP", i, p, err)
		}
	}
	p, _ := h.f.Pod("default", "p0")
	if p.ObjectMeta.ResourceVersion != rv(res.Index) {
		t.Errorf("p0 resourceVersion %s, want the batch's index %d", p.ObjectMeta.ResourceVersion, res.Index)
	}
	h.f.mu.RLock()
	defer h.f.mu.RUnlock()
	if err := checkIndexes(h.f.st); err != nil {
		t.Fatal(err)
	}
}

// Two binds of one batch that name the same IP: the second is refused,
// and the bind after it still goes through.
func TestBindPodsGivesAnIPOnce(t *testing.T) {
	h := newHarness(t)
	h.must(node("node-a", "4Gi", "192.168.50.2"), ready("node-a"),
		create("a", "10Mi"), create("b", "10Mi"), create("c", "10Mi"))
	res := h.mustResult(BindPods{Binds: []BindPod{
		bind("a", "node-a", "10.244.0.2"), bind("b", "node-a", "10.244.0.2"), bind("c", "node-a", "10.244.0.3"),
	}})
	if res.Each[0] != nil || res.Each[2] != nil {
		t.Fatalf("answers %v, want a and c bound", res.Each)
	}
	if err := res.Each[1]; err == nil || !strings.Contains(err.Error(), "in use by pod default/a") {
		t.Fatalf("b on a's IP: %v, want refused naming a", err)
	}
	seen := map[string]string{}
	pods, _ := h.f.Pods(Bound)
	for _, p := range pods {
		if other, dup := seen[p.Status.PodIP]; dup {
			t.Errorf("IP %s held by %s and %s", p.Status.PodIP, other, p.ObjectMeta.Name)
		}
		seen[p.Status.PodIP] = p.ObjectMeta.Name
	}
	if len(seen) != 2 {
		t.Fatalf("bound %v, want a and c", seen)
	}
}

// Host ports count within the batch too: a second hostNetwork pod on the
// same port of the same node is refused at commit.
func TestBindPodsCountsHostPortsWithinTheBatch(t *testing.T) {
	h := newHarness(t)
	h.must(node("node-a", "2Gi", "192.168.50.2"), ready("node-a"),
		hostNetCreate("agent", 9100), hostNetCreate("clash", 9100), hostNetCreate("other", 9200))
	res := h.mustResult(BindPods{Binds: []BindPod{bind("agent", "node-a", ""), bind("clash", "node-a", ""), bind("other", "node-a", "")}})
	if res.Each[0] != nil || res.Each[2] != nil {
		t.Fatalf("answers %v, want agent and other bound", res.Each)
	}
	if err := res.Each[1]; err == nil || !strings.Contains(err.Error(), "host port TCP/9100 is taken") {
		t.Fatalf("clash: %v, want refused for its port", err)
	}
}

// The items are checked as the single commands are: a pod already bound,
// a UID that does not match, a node that does not exist are each refused
// by name, and none of them stops the bind that follows.
func TestBindPodsRefusesEachItemAsBindPodWould(t *testing.T) {
	h := newHarness(t)
	h.must(node("node-a", "4Gi", "192.168.50.2"), ready("node-a"),
		create("bound", "10Mi"), bind("bound", "node-a", "10.244.0.2"), create("ok", "10Mi"), create("x", "10Mi"))
	wrongUID := bind("x", "node-a", "10.244.0.5")
	wrongUID.UID = "other"
	res := h.mustResult(BindPods{Binds: []BindPod{
		bind("bound", "node-a", "10.244.0.3"), wrongUID, bind("x", "nowhere", "10.244.0.6"), bind("ok", "node-a", "10.244.0.4"),
	}})
	if !IsConflict(res.Each[0]) || !IsConflict(res.Each[1]) || !IsNotFound(res.Each[2]) || res.Each[3] != nil {
		t.Fatalf("answers %v: want conflict, conflict, not found, bound", res.Each)
	}
	p, _ := h.f.Pod("default", "ok")
	if p.Spec.NodeName != "node-a" || p.Status.PodIP != "10.244.0.4" {
		t.Fatalf("ok = %s %s", p.Spec.NodeName, p.Status.PodIP)
	}
}

// A replication controller's missing replicas are one entry; a name that
// is taken or a pod that is invalid is refused alone.
func TestCreatePodsIsOneEntryAndRefusesEachAlone(t *testing.T) {
	h := newHarness(t)
	h.must(create("taken", "10Mi"))
	bad := create("bad", "10Mi")
	bad.Pod.Spec.Containers[0].Image = ""
	var items []CreatePod
	for i := 0; i < 50; i++ {
		items = append(items, create(fmt.Sprintf("r%02d", i), "10Mi"))
	}
	items = append(items, create("taken", "10Mi"), bad)
	before := h.idx
	res := h.mustResult(CreatePods{Pods: items})
	if h.idx != before+1 || !res.Created {
		t.Fatalf("batch took %d entries (created %v), want one", h.idx-before, res.Created)
	}
	for i := 0; i < 50; i++ {
		if res.Each[i] != nil {
			t.Fatalf("r%02d: %v", i, res.Each[i])
		}
	}
	if !IsAlreadyExists(res.Each[50]) {
		t.Errorf("taken: %v, want AlreadyExists", res.Each[50])
	}
	if err := res.Each[51]; err == nil || !strings.Contains(err.Error(), "image") {
		t.Errorf("bad: %v, want invalid naming the image", err)
	}
	pods, _ := h.f.Pods(nil)
	if len(pods) != 51 {
		t.Fatalf("%d pods stored, want 51", len(pods))
	}
	for _, p := range pods {
		if Bound(p) || p.Status.Phase != api.PodPending {
			t.Errorf("%s: %+v, want pending", p.ObjectMeta.Name, p.Status)
		}
	}
}

// FreePodIPs hands n distinct addresses, the lowest free, past the ones
// pods hold and the block's reserved ones.
func TestFreePodIPsAreTheLowestFreeAndDistinct(t *testing.T) {
	h := newHarness(t)
	h.must(node("node-a", "4Gi", "192.168.50.2"), ready("node-a"), create("a", "10Mi"), bind("a", "node-a", "10.244.0.3"))
	ips, err := h.f.FreePodIPs("node-a", 3)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ips) != "[10.244.0.2 10.244.0.4 10.244.0.5]" {
		t.Fatalf("FreePodIPs = %v", ips)
	}
	if _, err := h.f.FreePodIPs("node-a", 300); err == nil || !strings.Contains(err.Error(), "252 free pod IPs left") {
		t.Fatalf("300 of a /24: %v", err)
	}
	if _, err := h.f.FreePodIPs("nowhere", 1); !IsNotFound(err) {
		t.Fatalf("unknown node: %v", err)
	}
}
