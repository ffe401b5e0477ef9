package consensus

import (
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// UpdateNode is a user's write of a node (kubectl label, annotate,
// cordon, taint, or a PUT/PATCH): metadata.labels, metadata.annotations,
// metadata.managedFields, spec.unschedulable and spec.taints are taken
// from Node; everything else
// (its block, status) stays what the fleet and the agent recorded. A
// non-empty resourceVersion or UID must match the stored node.
type UpdateNode struct {
	Node api.Node `json:"node"`
	// Time stamps the timeAdded of a new NoExecute taint.
	Time time.Time `json:"time"`
}

// Type implements Command.
func (UpdateNode) Type() string { return "UpdateNode" }

// AnnAgentLabels records which of a node's labels its agent reported
// (comma-separated keys), so that a later report replaces those and only
// those: a label a user added survives every report, and a label the
// agent stopped reporting (the server role of a demoted agent) goes.
const AnnAgentLabels = "shoal.dev/agent-labels"

// AgentLabels is the part of a stored node's labels its agent reported.
// A node stored before AnnAgentLabels existed had only the agent's.
func AgentLabels(n *api.Node) map[string]string {
	keys, ok := n.ObjectMeta.Annotations[AnnAgentLabels]
	if !ok {
		return n.ObjectMeta.Labels
	}
	out := map[string]string{}
	for _, k := range strings.Split(keys, ",") {
		if v, ok := n.ObjectMeta.Labels[k]; ok && k != "" {
			out[k] = v
		}
	}
	return out
}

// mergeAgentReport puts an agent's labels and annotations onto the stored
// node n: its labels replace the ones it reported before, its annotations
// are set over the stored ones; what users set stays.
func mergeAgentReport(n *api.Node, labels, annotations map[string]string) {
	prev := AgentLabels(n)
	merged := map[string]string{}
	for k, v := range n.ObjectMeta.Labels {
		if _, agents := prev[k]; !agents {
			merged[k] = v
		}
	}
	keys := make([]string, 0, len(labels))
	for k, v := range labels {
		merged[k] = v
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ann := map[string]string{}
	for k, v := range n.ObjectMeta.Annotations {
		ann[k] = v
	}
	for k, v := range annotations {
		ann[k] = v
	}
	ann[AnnAgentLabels] = strings.Join(keys, ",")
	n.ObjectMeta.Labels, n.ObjectMeta.Annotations = merged, ann
}

func (s *state) updateNode(index uint64, c *UpdateNode) (*Result, error) {
	in := copyNode(&c.Node)
	api.Default(in)
	name := in.ObjectMeta.Name
	if err := api.ValidateNode(in); err != nil {
		return nil, &InvalidError{Kind: kindNode, Name: name, Fields: api.AsFieldErrors(err)}
	}
	old, ok := s.Nodes[name]
	if !ok {
		return nil, &NotFoundError{Kind: kindNode, Name: name}
	}
	om := old.ObjectMeta
	if uid := in.ObjectMeta.UID; uid != "" && uid != om.UID {
		return nil, &ConflictError{Kind: kindNode, Name: name,
			Reason: string("metadata.uid " + uid + " does not match the stored object's " + om.UID)}
	}
	if v := in.ObjectMeta.ResourceVersion; v != "" && v != om.ResourceVersion {
		return nil, &ConflictError{Kind: kindNode, Name: name,
			Reason: "the object has been modified (resourceVersion " + v + ", now " + om.ResourceVersion + "); read it again and retry"}
	}
	var fields api.FieldErrors
	if v := in.Spec.PodCIDR; v != "" && v != old.Spec.PodCIDR {
		fields = append(fields, &api.FieldError{Path: "spec.podCIDR", Value: v, Detail: "may not be changed (the fleet allocated " + old.Spec.PodCIDR + ")"})
	}
	if v := in.Spec.PodCIDRs; len(v) > 0 && !reflect.DeepEqual(v, old.Spec.PodCIDRs) {
		fields = append(fields, &api.FieldError{Path: "spec.podCIDRs", Value: strings.Join(v, ","), Detail: "may not be changed (the fleet allocated " + strings.Join(old.Spec.PodCIDRs, ",") + ")"})
	}
	if len(fields) > 0 {
		return nil, &InvalidError{Kind: kindNode, Name: name, Fields: fields}
	}
	ann := map[string]string{}
	for k, v := range in.ObjectMeta.Annotations {
		ann[k] = v
	}
	// Which labels are the agent's is the fleet's record, not the user's.
	delete(ann, AnnAgentLabels)
	if keys, ok := om.Annotations[AnnAgentLabels]; ok {
		ann[AnnAgentLabels] = keys
	} else {
		keys := make([]string, 0, len(om.Labels))
		for k := range om.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		ann[AnnAgentLabels] = strings.Join(keys, ",")
	}
	taints := stampTaints(in.Spec.Taints, old.Spec.Taints, api.TimeOf(c.Time))
	managed, managedChanged := managedFieldsAfter(om.ManagedFields, in.ObjectMeta.ManagedFields)
	if !managedChanged && equalStringMaps(om.Labels, in.ObjectMeta.Labels) && equalStringMaps(om.Annotations, ann) &&
		old.Spec.Unschedulable == in.Spec.Unschedulable && reflect.DeepEqual(old.Spec.Taints, taints) {
		return &Result{Index: index, Node: copyNode(old)}, nil
	}
	n := copyNode(old)
	n.ObjectMeta.Labels, n.ObjectMeta.Annotations, n.ObjectMeta.ManagedFields = in.ObjectMeta.Labels, ann, managed
	n.Spec.Unschedulable, n.Spec.Taints = in.Spec.Unschedulable, taints
	n.ObjectMeta.ResourceVersion = rv(index)
	s.putNode(name, n)
	return &Result{Index: index, Node: copyNode(n), Changed: true}, nil
}

// stampTaints gives every NoExecute taint its timeAdded, as Kubernetes
// does: kept from the stored taint of the same key and effect, else now.
// tolerationSeconds count from it.
func stampTaints(taints, old []api.Taint, now api.Time) []api.Taint {
	if len(taints) == 0 {
		return nil
	}
	out := make([]api.Taint, len(taints))
	for i, t := range taints {
		if t.Effect == api.TaintNoExecute {
			t.TimeAdded = nil
			for _, o := range old {
				if o.Key == t.Key && o.Effect == t.Effect && o.TimeAdded != nil {
					added := *o.TimeAdded
					t.TimeAdded = &added
				}
			}
			if t.TimeAdded == nil {
				added := now
				t.TimeAdded = &added
			}
		} else {
			t.TimeAdded = nil
		}
		out[i] = t
	}
	return out
}
