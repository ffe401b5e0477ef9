package controllers

import (
	"context"
	"reflect"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/placement"
)

// nodeController registers every agent gossip knows as a node and keeps its
// Ready condition in step with gossip's view of it.
func (l *Leader) nodeController(ctx context.Context) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		changed := l.members.Changes()
		l.syncNodes(ctx, l.members.Members())
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-tick.C:
		}
	}
}

// syncNodes registers the members and sets their Ready conditions,
// leaderWrites at a time: Raft commits the writes waiting together in one
// round, where one member after another cost a round each (two per new
// node), so a fleet of a thousand starting at once waited thousands of
// rounds for its nodes to be Ready.
func (l *Leader) syncNodes(ctx context.Context, members []Member) {
	sideBySide(len(members), leaderWrites, func(i int) {
		if err := l.syncNode(ctx, members[i]); err != nil && ctx.Err() == nil {
			l.log.Warn("register node", "node", members[i].Name, "err", err)
		}
	})
}

func (l *Leader) syncNode(ctx context.Context, m Member) error {
	want := nodeFromMember(m, l.cfg.KubeletVersion)
	have, err := l.state.Node(m.Name)
	if err != nil && !consensus.IsNotFound(err) {
		return err
	}
	if have == nil || !sameRegistration(have, want) {
		_, err := l.seat.Apply(ctx, consensus.RegisterNode{Node: *want, ClusterCIDR: l.cfg.PodCIDR, BlockBits: l.cfg.BlockBits, Time: time.Now().UTC()})
		if err != nil {
			return err
		}
	}
	ready := have != nil && placement.NodeReady(have)
	alive := l.aliveForFleet(m) // nodelifecycle.go: after the node grace
	if have == nil || ready != alive {
		reason, msg := "AgentReady", "gossip reaches the agent"
		if !alive {
			reason, msg = "NodeStatusUnknown", "gossip declared the agent failed"
		}
		_, err := l.seat.Apply(ctx, consensus.SetNodeCondition{Name: m.Name, Ready: alive, Reason: reason, Message: msg, Time: time.Now().UTC()})
		return err
	}
	return nil
}

// DefaultMaxPods is the pods a node takes unless its agent says
// otherwise (--max-pods): the kubelet's default.
const DefaultMaxPods = 110

func nodeFromMember(m Member, kubeletVersion string) *api.Node {
	labels := map[string]string{"kubernetes.io/hostname": m.Name, "kubernetes.io/os": "linux"}
	for k, v := range m.Labels {
		labels[k] = v
	}
	if m.Server {
		labels[api.LabelServerRole] = ""
	}
	pods := int64(DefaultMaxPods)
	if m.Pods > 0 {
		pods = int64(m.Pods)
	}
	res := api.ResourceList{api.ResourcePods: *resource.NewQuantity(pods, resource.DecimalSI)}
	if q, err := resource.ParseQuantity(m.Memory); err == nil {
		res[api.ResourceMemory] = q
	}
	if q, err := resource.ParseQuantity(m.CPU); err == nil {
		res[api.ResourceCPU] = q
	}
	return &api.Node{
		TypeMeta:   api.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: api.ObjectMeta{Name: m.Name, Labels: labels, Annotations: map[string]string{"shoal.dev/api": m.API}},
		Status: api.NodeStatus{
			Capacity:    res,
			Allocatable: res,
			Addresses:   []api.NodeAddress{{Type: "InternalIP", Address: m.Addr}, {Type: "Hostname", Address: m.Name}},
			NodeInfo:    api.NodeSystemInfo{KubeletVersion: kubeletVersion, ContainerRuntimeVersion: "containerd", OperatingSystem: "linux"},
		},
	}
}

// sameRegistration compares what an agent reports, not what the fleet or
// its users added: the labels the agent reported last time
// (consensus.AgentLabels), and its annotations among the stored ones.
func sameRegistration(have, want *api.Node) bool {
	for k, v := range want.ObjectMeta.Annotations {
		if got, ok := have.ObjectMeta.Annotations[k]; !ok || got != v {
			return false
		}
	}
	if _, ok := have.ObjectMeta.Annotations[consensus.AnnAgentLabels]; !ok {
		return false
	}
	return reflect.DeepEqual(consensus.AgentLabels(have), want.ObjectMeta.Labels) &&
		reflect.DeepEqual(have.Status.Addresses, want.Status.Addresses) &&
		api.ResourcesEqual(have.Status.Allocatable, want.Status.Allocatable)
}
