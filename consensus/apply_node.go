package consensus

import (
	"github.com/shoal-dev/shoal/api"
)

func (s *state) registerNode(index uint64, c *RegisterNode) (*Result, error) {
	in := copyNode(&c.Node)
	api.Default(in)
	name := in.ObjectMeta.Name
	if err := api.ValidateNode(in); err != nil {
		return nil, &InvalidError{Kind: kindNode, Name: name, Fields: api.AsFieldErrors(err)}
	}
	now := api.TimeOf(c.Time)
	old, exists := s.Nodes[name]
	var n *api.Node
	if exists {
		n = copyNode(old)
	} else {
		block, err := s.allocateBlock(c.ClusterCIDR, c.BlockBits)
		if err != nil {
			return nil, err
		}
		n = &api.Node{TypeMeta: in.TypeMeta}
		n.ObjectMeta.Name = name
		n.ObjectMeta.UID = in.ObjectMeta.UID
		n.ObjectMeta.CreationTimestamp = now
		n.Spec.PodCIDR = block.String()
		n.Spec.PodCIDRs = []string{block.String()}
		// Cordoning is the fleet's decision, not the agent's; the agent's
		// word counts only when the node is new.
		n.Spec.Unschedulable = in.Spec.Unschedulable
		n.Status.Conditions = []api.NodeCondition{{
			Type: condReady, Status: condUnknown, Reason: "NodeStatusNeverUpdated",
			Message:           "the node's agent has not reported readiness yet",
			LastHeartbeatTime: now, LastTransitionTime: now,
		}}
	}
	// The agent's labels and annotations, merged with what users set:
	// node_update.go.
	mergeAgentReport(n, in.ObjectMeta.Labels, in.ObjectMeta.Annotations)
	n.Status.Capacity = in.Status.Capacity
	n.Status.Allocatable = in.Status.Allocatable
	n.Status.Addresses = in.Status.Addresses
	n.Status.NodeInfo = in.Status.NodeInfo
	for _, cond := range in.Status.Conditions {
		if cond.LastHeartbeatTime.IsZero() {
			cond.LastHeartbeatTime = now
		}
		cond.LastTransitionTime = now
		setNodeCondition(n, cond)
	}
	n.ObjectMeta.ResourceVersion = rv(index)
	s.putNode(name, n)
	return &Result{Index: index, Node: copyNode(n), Changed: true, Created: !exists}, nil
}

// setNodeReady records the Ready condition. When a node stops being ready
// the pods bound to it that have not finished turn Unknown: nobody can
// vouch for them any more. They come back when the agent reports again.
func (s *state) setNodeReady(index uint64, c *SetNodeCondition) (*Result, error) {
	old, ok := s.Nodes[c.Name]
	if !ok {
		return nil, &NotFoundError{Kind: kindNode, Name: c.Name}
	}
	now := api.TimeOf(c.Time)
	status := condFalse
	if c.Ready {
		status = condTrue
	}
	n := copyNode(old)
	setNodeCondition(n, api.NodeCondition{
		Type: condReady, Status: api.ConditionStatus(status), Reason: c.Reason, Message: c.Message,
		LastHeartbeatTime: now, LastTransitionTime: now,
	})
	n.ObjectMeta.ResourceVersion = rv(index)
	s.putNode(c.Name, n)
	if !c.Ready {
		s.removeTerminatingPods(c.Name) // pod_terminate.go
		for _, key := range s.sortedPodKeys() {
			p := s.Pods[key]
			if p.Spec.NodeName != c.Name || !Bound(p) || Terminal(p) || p.Status.Phase == api.PodUnknown {
				continue
			}
			p = copyPod(p)
			p.Status.Phase = api.PodUnknown
			p.Status.Reason = "NodeLost"
			p.Status.Message = "node " + c.Name + " is not ready: " + c.Message
			setPodCondition(p, api.PodCondition{Type: condReady, Status: condFalse, Reason: "NodeLost", LastTransitionTime: now})
			p.ObjectMeta.ResourceVersion = rv(index)
			s.putPod(key, p)
		}
	}
	return &Result{Index: index, Node: copyNode(n), Changed: true}, nil
}
