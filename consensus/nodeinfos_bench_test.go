package consensus

import (
	"fmt"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/placement"
)

// BenchmarkLeaderPlacement is what the leader does for each pending pod,
// but for Raft's replication (BenchmarkRaftApply): read the node list with
// what the bound pods request (FSM.NodeInfos), choose a node
// (placement.Choose), pick the node's lowest free pod IP (FSM.FreePodIP),
// and apply the BindPod, whose commit-time check re-reads the node's sums
// and the IPs in use. Fleets of 100, 1,000 and 5,000 nodes with a bound
// pod each; pods are created pending in batches and deleted again after
// each batch with the timer stopped, so the fleet stays the same size
// however many iterations run. pods/s next to placement's own figure shows
// what the state machine adds.
func BenchmarkLeaderPlacement(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			f := fleetFSM(b, n, 1)
			apply := fsmApplier(b, f)
			const batch = 500
			var pending []*api.Pod
			var done []string
			refill := func() {
				for _, name := range done {
					apply(DeletePod{Namespace: "default", Name: name})
				}
				done = done[:0]
				for i := range batch {
					c := create(fmt.Sprintf("pending-%d", i), "64Mi")
					res := apply(c)
					pending = append(pending, res.Pod)
				}
			}
			refill()
			b.ReportAllocs()
			for b.Loop() {
				if len(pending) == 0 {
					b.StopTimer()
					refill()
					b.StartTimer()
				}
				p := pending[len(pending)-1]
				pending = pending[:len(pending)-1]
				nodeName, _, err := placement.Choose(p, f.NodeInfos())
				if err != nil {
					b.Fatal(err)
				}
				ip, err := f.FreePodIP(nodeName)
				if err != nil {
					b.Fatal(err)
				}
				apply(BindPod{Namespace: "default", Name: p.ObjectMeta.Name, UID: p.ObjectMeta.UID, Node: nodeName, PodIP: ip.String(), Time: t0})
				done = append(done, p.ObjectMeta.Name)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pods/s")
		})
	}
}

// BenchmarkFleetRegister times building a fleet's state as Raft would
// apply it: RegisterNode (which allocates the node's pod block) and a Ready
// condition for each of n nodes; ns/op is the whole fleet.
func BenchmarkFleetRegister(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fleetFSM(b, n, 0)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "nodes/s")
		})
	}
}

// NodeInfos and the per-node sums BindPod checks against come from the
// indexes; both must give what summing the pods from scratch gives.
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
	for i, want := range scratchNodeInfos(f.st) {
		if err := sameInfo(infos[i], want); err != nil {
			t.Fatalf("NodeInfos: %v", err)
		}
		if err := sameInfo(f.st.nodeInfo(want.Node.ObjectMeta.Name), want); err != nil {
			t.Fatalf("BindPod's view: %v", err)
		}
	}
	if infos[3].Pods != 2 || infos[4].Pods != 3 {
		t.Fatalf("node-00003 has %d pods (want 2, one finished), node-00004 %d (want 3)", infos[3].Pods, infos[4].Pods)
	}
}

// fsmApplier returns a function that applies a command to f as Raft
// would (encoded, at the next index) and fails the test if it is refused.
func fsmApplier(b testing.TB, f *FSM) func(Command) *Result {
	idx := f.Index()
	return func(cmd Command) *Result {
		data, err := EncodeCommand(cmd)
		if err != nil {
			b.Fatal(err)
		}
		idx++
		switch v := f.Apply(&raft.Log{Index: idx, Term: 1, Type: raft.LogCommand, Data: data}).(type) {
		case error:
			b.Fatalf("%s: %v", cmd.Type(), v)
		case *Result:
			return v
		}
		return nil
	}
}

// fleetFSM applies, as Raft would, n ready nodes with perNode pods bound
// to each.
func fleetFSM(b testing.TB, n, perNode int) *FSM {
	f := NewFSM()
	apply := fsmApplier(b, f)
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
			apply(BindPod{Namespace: "default", Name: pname, UID: api.UID("uid-" + pname), Node: name, PodIP: ip.String(), Time: t0})
		}
	}
	return f
}
