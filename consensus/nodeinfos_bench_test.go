package consensus

import (
	"fmt"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/placement"
)

// BenchmarkLeaderPlacement is what the leader does for each pending pod
// besides placement.Choose: build the node list with what the bound pods
// request (FSM.NodeInfos), then choose. Fleets of 100, 1,000 and 5,000
// nodes with a bound pod each; pods/s next to placement's own figure
// shows which of the two costs.
func BenchmarkLeaderPlacement(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			f := fleetFSM(b, n, 1)
			p := pod("pending", "64Mi")
			p.Metadata.Namespace = "default"
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := placement.Choose(&p, f.NodeInfos()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pods/s")
		})
	}
}

// NodeInfos sums every node's bound pods in one pass; it must give what
// the per-node sum BindPod checks against gives.
func TestNodeInfosMatchesBindPodsView(t *testing.T) {
	f := fleetFSM(t, 30, 3)
	h := &harness{t: t, f: f, idx: f.Index()}
	// A finished pod and a pending one count on no node.
	h.must(UpdatePodStatus{Namespace: "default", Name: "p-00003-1", UID: "uid-p-00003-1", Node: "node-00003",
		Status: api.PodStatus{Phase: api.PodSucceeded}, Time: t0})
	h.must(create("pending", "1Gi"))
	infos := f.NodeInfos()
	if len(infos) != 30 {
		t.Fatalf("%d node infos, want 30", len(infos))
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, got := range infos {
		want := f.st.nodeInfo(got.Node.Metadata.Name)
		mem, wantMem := got.Requested.Get(api.ResourceMemory), want.Requested.Get(api.ResourceMemory)
		if got.Pods != want.Pods || mem.Cmp(wantMem) != 0 {
			t.Fatalf("%s: NodeInfos %d pods %s, per-node sum %d pods %s",
				got.Node.Metadata.Name, got.Pods, mem.String(), want.Pods, wantMem.String())
		}
	}
	if infos[3].Pods != 2 || infos[4].Pods != 3 {
		t.Fatalf("node-00003 has %d pods (want 2, one finished), node-00004 %d (want 3)", infos[3].Pods, infos[4].Pods)
	}
}

// fleetFSM applies, as Raft would, n ready nodes with perNode pods bound
// to each.
func fleetFSM(b testing.TB, n, perNode int) *FSM {
	f := NewFSM()
	var idx uint64
	apply := func(cmd Command) {
		data, err := EncodeCommand(cmd)
		if err != nil {
			b.Fatal(err)
		}
		idx++
		if err, ok := f.Apply(&raft.Log{Index: idx, Term: 1, Type: raft.LogCommand, Data: data}).(error); ok {
			b.Fatalf("%s: %v", cmd.Type(), err)
		}
	}
	for i := range n {
		name := fmt.Sprintf("node-%05d", i)
		reg := node(name, "64Gi", fmt.Sprintf("172.%d.%d.%d", 16+i>>16&15, i>>8&255, i&255))
		reg.ClusterCIDR = "10.0.0.0/8" // room for 5,000 /24 blocks
		apply(reg)
		apply(ready(name))
		for j := range perNode {
			pname := fmt.Sprintf("p-%05d-%d", i, j)
			apply(create(pname, "128Mi"))
			ip, err := f.FreePodIP(name)
			if err != nil {
				b.Fatal(err)
			}
			apply(BindPod{Namespace: "default", Name: pname, UID: "uid-" + pname, Node: name, PodIP: ip.String(), Time: t0})
		}
	}
	return f
}
