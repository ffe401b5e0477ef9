package agent

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/placement"
)

// Version is reported as the node's kubelet version.
const Version = "shoal/v0.1.0"

// leaderLoop runs the leader's controllers while this server leads, and
// stops them the moment it does not.
func (a *Agent) leaderLoop(ctx context.Context) { a.lead(ctx, a.runControllers) }

// lead runs controllers while this server leads, but only once its state
// holds everything committed before its leadership (a Barrier): a new
// leader learns what its predecessor committed only when its own first
// entry commits, and a controller acting on the state before that would,
// for one, place again a pod that is already bound or replace replicas
// that run.
func (a *Agent) lead(ctx context.Context, controllers func(context.Context)) {
	var (
		cancel context.CancelFunc
		done   chan struct{}
	)
	stop := func() {
		if cancel != nil {
			cancel()
			<-done
			cancel = nil
		}
	}
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case isLeader := <-a.raft().LeaderCh():
			stop()
			if !isLeader {
				a.log.Info("lost leadership")
				continue
			}
			a.log.Info("became leader; controllers start once the state is current")
			lctx, lcancel := context.WithCancel(ctx)
			cancel = lcancel
			done = make(chan struct{})
			go func() {
				defer close(done)
				if a.leaderBarrier(lctx) {
					controllers(lctx)
				}
			}()
		}
	}
}

// Barrier timing for a new leader: a barrier waits behind everything the
// state machine has yet to apply, which after a restart is the whole log
// since the last snapshot, so one attempt gets generous time; a leader
// whose barriers keep failing hands leadership on rather than lead with
// no controllers.
const (
	leaderBarrierTimeout  = 10 * time.Second
	leaderBarrierAttempts = 3
	leaderBarrierBackoff  = 500 * time.Millisecond
)

// leaderBarrier returns true once a Barrier succeeded while this server
// still leads, and false when ctx ends (leadership lost, agent stopping).
func (a *Agent) leaderBarrier(ctx context.Context) bool {
	seat := a.raft()
	for attempt := 1; ; attempt++ {
		bctx, cancel := context.WithTimeout(ctx, leaderBarrierTimeout)
		err := seat.Barrier(bctx)
		cancel()
		if err == nil {
			a.log.Info("leader's state is current: starting controllers", "attempt", attempt)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		a.log.Warn("leader barrier failed: controllers wait", "attempt", attempt, "err", err)
		if attempt%leaderBarrierAttempts == 0 && seat.IsLeader() {
			a.log.Error("leader cannot make its state current: stepping down", "attempts", attempt)
			tctx, cancel := context.WithTimeout(ctx, leaderBarrierTimeout)
			if err := seat.TransferLeadership(tctx, ""); err != nil && ctx.Err() == nil {
				a.log.Error("step down", "err", err)
			}
			cancel()
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(leaderBarrierBackoff):
		}
	}
}

func (a *Agent) runControllers(ctx context.Context) {
	loops := []func(context.Context){a.nodeController, a.placementController,
		a.replicationController, a.nodeLifecycleController, a.seatController}
	finished := make(chan struct{}, len(loops))
	for _, loop := range loops {
		go func() { loop(ctx); finished <- struct{}{} }()
	}
	for range loops {
		<-finished
	}
}

// nodeController registers every agent gossip knows as a node and keeps its
// Ready condition in step with gossip's view of it.
func (a *Agent) nodeController(ctx context.Context) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		changed := a.members.changes()
		for _, m := range a.members.members() {
			if err := a.syncNode(ctx, m); err != nil && ctx.Err() == nil {
				a.log.Warn("register node", "node", m.Name, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-tick.C:
		}
	}
}

func (a *Agent) syncNode(ctx context.Context, m member) error {
	want := nodeFromMember(m)
	have, err := a.fsm().Node(m.Name)
	if err != nil && !consensus.IsNotFound(err) {
		return err
	}
	if have == nil || !sameRegistration(have, want) {
		_, err := a.raft().Apply(ctx, consensus.RegisterNode{Node: *want, ClusterCIDR: a.cfg.PodCIDR, BlockBits: a.cfg.BlockBits, Time: time.Now().UTC()})
		if err != nil {
			return err
		}
	}
	ready := have != nil && placement.NodeReady(have)
	alive := a.aliveForFleet(m) // agent/nodelifecycle.go: after --node-grace
	if have == nil || ready != alive {
		reason, msg := "AgentReady", "gossip reaches the agent"
		if !alive {
			reason, msg = "NodeStatusUnknown", "gossip declared the agent failed"
		}
		_, err := a.raft().Apply(ctx, consensus.SetNodeCondition{Name: m.Name, Ready: alive, Reason: reason, Message: msg, Time: time.Now().UTC()})
		return err
	}
	return nil
}

// DefaultMaxPods is the pods a node takes unless --max-pods says
// otherwise: the kubelet's default.
const DefaultMaxPods = 110

func nodeFromMember(m member) *api.Node {
	labels := map[string]string{"kubernetes.io/hostname": m.Name, "kubernetes.io/os": "linux"}
	for k, v := range m.Meta.Labels {
		labels[k] = v
	}
	if m.Meta.Server {
		labels[serverLabel] = ""
	}
	pods := int64(DefaultMaxPods)
	if m.Meta.Pods > 0 {
		pods = int64(m.Meta.Pods)
	}
	res := api.ResourceList{api.ResourcePods: *resource.NewQuantity(pods, resource.DecimalSI)}
	if q, err := resource.ParseQuantity(m.Meta.Memory); err == nil {
		res[api.ResourceMemory] = q
	}
	if q, err := resource.ParseQuantity(m.Meta.CPU); err == nil {
		res[api.ResourceCPU] = q
	}
	return &api.Node{
		TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Node"},
		Metadata: api.ObjectMeta{Name: m.Name, Labels: labels, Annotations: map[string]string{"shoal.dev/api": m.Meta.API}},
		Status: api.NodeStatus{
			Capacity:    res,
			Allocatable: res,
			Addresses:   []api.NodeAddress{{Type: "InternalIP", Address: m.Addr}, {Type: "Hostname", Address: m.Name}},
			NodeInfo:    api.NodeSystemInfo{KubeletVersion: Version, ContainerRuntimeVersion: "containerd", OperatingSystem: "linux"},
		},
	}
}

// sameRegistration compares what an agent reports, not what the fleet added.
func sameRegistration(have, want *api.Node) bool {
	return reflect.DeepEqual(have.Metadata.Labels, want.Metadata.Labels) &&
		reflect.DeepEqual(have.Metadata.Annotations, want.Metadata.Annotations) &&
		reflect.DeepEqual(have.Status.Addresses, want.Status.Addresses) &&
		have.Status.Allocatable.Equal(want.Status.Allocatable)
}

// placementController places every pending pod as a whole: it picks a node
// (placement.Choose) and an IP from that node's block, and proposes the
// binding; the state machine re-checks the fit when it commits.
func (a *Agent) placementController(ctx context.Context) {
	var after uint64
	var infos []placement.NodeInfo
	for {
		idx, err := a.fsm().WaitIndex(ctx, after)
		if err != nil {
			return
		}
		after = idx
		pending, _ := a.fsm().Pods(func(p *api.Pod) bool { return !consensus.Bound(p) && !consensus.Terminal(p) })
		if len(pending) == 0 {
			continue
		}
		// One list reused for every pass: on a large fleet a fresh one
		// per pod was most of what placing it allocated.
		infos = a.fsm().AppendNodeInfos(infos[:0])
		a.placeSideBySide(ctx, pending, infos) // agent/placement_batch.go
	}
}

func (a *Agent) place(ctx context.Context, p *api.Pod, infos []placement.NodeInfo) error {
	nodeName, noFit, err := placement.Choose(p, infos)
	if errors.Is(err, placement.ErrNoFit) {
		a.metrics.placementFailed()
		msg := noFit.String()
		if c := podCondition(p, "PodScheduled"); c != nil && c.Message == msg {
			return nil
		}
		_, err := a.raft().Apply(ctx, consensus.SetPodUnschedulable{Namespace: p.Metadata.Namespace, Name: p.Metadata.Name, UID: p.Metadata.UID, Message: msg, Time: time.Now().UTC()})
		if err == nil {
			a.recordLeaderEvent(p, api.EventWarning, "FailedScheduling", msg) // agent/events.go
		}
		return err
	}
	if err != nil {
		return err
	}
	return a.bindChosen(ctx, p, nodeName) // agent/placement_batch.go
}

func podCondition(p *api.Pod, typ string) *api.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == typ {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// newUID returns a random RFC 4122 version 4 UID, chosen outside the state
// machine and carried in the log entry.
func newUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
