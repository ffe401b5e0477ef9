package controllers

import (
	"context"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// batchSeat counts what the controllers write, by command type, and
// the items of the batch commands.
type batchSeat struct {
	Seat
	mu    sync.Mutex
	types map[string]int
	items map[string]int
}

func (c *batchSeat) Apply(ctx context.Context, cmd consensus.Command) (*consensus.Result, error) {
	c.mu.Lock()
	c.types[cmd.Type()]++
	switch b := cmd.(type) {
	case consensus.CreatePods:
		c.items[cmd.Type()] += len(b.Pods)
	case consensus.BindPods:
		c.items[cmd.Type()] += len(b.Binds)
	}
	c.mu.Unlock()
	return c.Seat.Apply(ctx, cmd)
}

func (c *batchSeat) count(typ string) (entries, items int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.types[typ], c.items[typ]
}

// A ReplicationController of 300 on two nodes through the real loops and
// a real (in-memory) Raft: its replicas are made in one CreatePods entry
// and bound in one or two BindPods entries, never one entry per pod; every
// replica gets its own IP, and no node is given more than it holds (250
// pods: the pass must use both).
func TestReplicasAreCreatedAndBoundInBatches(t *testing.T) {
	const replicas = 300
	l, s := testLeader(t, Config{Liveness: liveness.WithGrace(time.Second)}, Deps{Members: &fakeFleet{}})
	seat := &batchSeat{Seat: s.Raft, types: map[string]int{}, items: map[string]int{}}
	l.seat = seat
	for _, name := range []string{"n1", "n2"} {
		registerReady(t, s, Member{Name: name, Addr: "10.0.0.1", Pods: 250, Memory: "2000Mi", CPU: "100"})
	}
	n := int32(replicas)
	rc := &api.ReplicationController{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: api.ReplicationControllerSpec{Replicas: &n, Selector: map[string]string{"app": "web"}, Template: &api.PodTemplateSpec{
			ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1",
				Resources: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceMemory: resource.MustParse("10Mi")}}}}}}}}
	rc.APIVersion, rc.Kind = "v1", api.KindReplicationController
	apply(t, s, consensus.ApplyController{RC: rc, Create: true, UID: "web-uid", Time: time.Now().UTC()})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); l.replicationController(ctx) }()
	go func() { defer wg.Done(); l.placementController(ctx) }()
	defer func() { cancel(); wg.Wait() }()
	eventually(t, "300 replicas bound", func() bool {
		pods, _ := s.FSM.Pods(consensus.Bound)
		return len(pods) == replicas
	})
	if e, items := seat.count("CreatePods"); e != 1 || items != replicas {
		t.Errorf("CreatePods: %d entries of %d pods, want 1 of %d", e, items, replicas)
	}
	if e, items := seat.count("BindPods"); e < 1 || e > 2 || items != replicas {
		t.Errorf("BindPods: %d entries of %d binds, want 1 or 2 of %d", e, items, replicas)
	}
	if e, _ := seat.count("CreatePod"); e != 0 {
		t.Errorf("%d single CreatePod entries, want none", e)
	}
	if e, _ := seat.count("BindPod"); e != 0 {
		t.Errorf("%d single BindPod entries, want none", e)
	}
	pods, _ := s.FSM.Pods(consensus.Bound)
	ips := map[string]string{}
	for _, p := range pods {
		if other, dup := ips[p.Status.PodIP]; dup {
			t.Errorf("IP %s given to %s and %s", p.Status.PodIP, other, p.ObjectMeta.Name)
		}
		ips[p.Status.PodIP] = p.ObjectMeta.Name
	}
	for _, info := range s.FSM.NodeInfos() {
		used, alloc := info.Requested[api.ResourceMemory], info.Node.Status.Allocatable[api.ResourceMemory]
		if used.Cmp(alloc) > 0 || info.Pods > 250 {
			t.Errorf("%s over-committed: %s of %s, %d pods", info.Node.ObjectMeta.Name, used.String(), alloc.String(), info.Pods)
		}
	}
}
