package controllers

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// BenchmarkEndpointsPass measures one pass of the endpoints controller over
// 1,000 Services of 3 pods each (a named targetPort, resolved per pod), on
// the in-memory Raft: settled (nothing to write, the pass every state
// change costs), one pod's readiness changed (2 writes), and everything
// new (2,000 writes proposed side by side).
func BenchmarkEndpointsPass(b *testing.B) {
	const services, podsPer, nodes = 1000, 3, 30
	l, s := testLeader(b, Config{Liveness: liveness.WithGrace(time.Second)}, Deps{Members: &fakeFleet{}})
	for i := range nodes {
		registerReady(b, s, Member{Name: fmt.Sprintf("n%02d", i), Addr: fmt.Sprintf("10.0.0.%d", i+1), Pods: 200})
	}
	ctx := context.Background()
	var (
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	must := func(cmd consensus.Command) {
		if _, err := s.Raft.Apply(ctx, cmd); err != nil {
			fail(fmt.Errorf("%T: %w", cmd, err))
		}
	}
	now := time.Now().UTC()
	sideBySide(services, leaderWrites, func(i int) {
		svc := api.Service{ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("svc%04d", i), Namespace: "default"},
			Spec: api.ServiceSpec{Selector: map[string]string{"app": fmt.Sprintf("svc%04d", i)},
				Ports: []api.ServicePort{{Port: 80, TargetPort: api.FromString("http")}}}}
		svc.APIVersion, svc.Kind = "v1", "Service"
		must(consensus.ApplyService{Service: svc, Create: true, UID: api.UID(fmt.Sprintf("svc-uid-%d", i)), Time: now})
	})
	// Pods bind one at a time per node (each takes the node's next free
	// address), nodes side by side.
	sideBySide(nodes, nodes, func(n int) {
		node := fmt.Sprintf("n%02d", n)
		for j := n; j < services*podsPer; j += nodes {
			name := fmt.Sprintf("p%05d", j)
			p := api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": fmt.Sprintf("svc%04d", j/podsPer)}},
				Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1", Ports: []api.ContainerPort{{Name: "http", ContainerPort: 8080}}}}}}
			p.APIVersion, p.Kind = "v1", "Pod"
			uid := api.UID("uid-" + name)
			must(consensus.CreatePod{Pod: p, UID: uid, Time: now})
			ip, err := s.FSM.FreePodIP(node)
			if err != nil {
				fail(err)
				return
			}
			must(consensus.BindPod{Namespace: "default", Name: name, UID: uid, Node: node, PodIP: ip.String(), Time: now})
			must(consensus.UpdatePodStatus{Namespace: "default", Name: name, UID: uid, Node: node, Time: now,
				Status: api.PodStatus{Phase: api.PodRunning, Conditions: []api.PodCondition{{Type: "Ready", Status: "True"}}}})
		}
	})
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	passOnce := func(b *testing.B, want int) {
		n, err := l.syncEndpoints(ctx, s.FSM)
		if err != nil || n != want {
			b.Fatalf("pass: %d writes (want %d), err %v", n, want, err)
		}
	}
	passOnce(b, 2*services)

	b.Run("settled", func(b *testing.B) {
		for b.Loop() {
			passOnce(b, 0)
		}
	})
	b.Run("one-pod-readiness-changed", func(b *testing.B) {
		status := "False"
		for b.Loop() {
			b.StopTimer()
			must(consensus.UpdatePodStatus{Namespace: "default", Name: "p00000", UID: "uid-p00000", Node: "n00", Time: now,
				Status: api.PodStatus{Phase: api.PodRunning, Conditions: []api.PodCondition{{Type: "Ready", Status: api.ConditionStatus(status)}}}})
			if status == "False" {
				status = "True"
			} else {
				status = "False"
			}
			b.StartTimer()
			passOnce(b, 2)
		}
		if firstErr != nil {
			b.Fatal(firstErr)
		}
	})
	b.Run("all-new", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			eps, _ := s.FSM.ListEndpoints(nil)
			sideBySide(len(eps), leaderWrites, func(i int) {
				must(consensus.DeleteEndpoints{Namespace: "default", Name: eps[i].ObjectMeta.Name})
			})
			slices, _ := s.FSM.EndpointSlices(nil)
			sideBySide(len(slices), leaderWrites, func(i int) {
				must(consensus.DeleteEndpointSlice{Namespace: "default", Name: slices[i].ObjectMeta.Name})
			})
			if firstErr != nil {
				b.Fatal(firstErr)
			}
			b.StartTimer()
			passOnce(b, 2*services)
		}
	})
}
