package consensus

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/shoal-dev/shoal/api"
)

// state is the whole replicated cluster state; it is also the snapshot
// format, so it must stay plain JSON-serialisable data.
type state struct {
	// Index is the Raft index of the last command applied.
	Index uint64               `json:"index"`
	Nodes map[string]*api.Node `json:"nodes"`
	// Pods are keyed by api.Key(namespace, name).
	Pods map[string]*api.Pod `json:"pods"`
	// RCs and ReplicaSets are keyed by api.Key(namespace, name).
	RCs         map[string]*api.ReplicationController `json:"replicationControllers,omitempty"`
	ReplicaSets map[string]*api.ReplicaSet            `json:"replicaSets,omitempty"`
	// Deployments are keyed by api.Key(namespace, name): deployments.go.
	Deployments map[string]*api.Deployment `json:"deployments,omitempty"`
	// DaemonSets are keyed by api.Key(namespace, name): daemonsets.go.
	DaemonSets map[string]*api.DaemonSet `json:"daemonSets,omitempty"`
	// ControllerRevisions are keyed by api.Key(namespace, name):
	// controllerrevisions.go.
	ControllerRevisions map[string]*api.ControllerRevision `json:"controllerRevisions,omitempty"`
	// Events: consensus/events.go.
	Events *eventLog `json:"events,omitempty"`
	// Secrets are keyed by api.Key(namespace, name): consensus/secrets.go.
	Secrets map[string]*api.Secret `json:"secrets,omitempty"`
	// ConfigMaps are keyed by api.Key(namespace, name): configmaps.go.
	ConfigMaps map[string]*api.ConfigMap `json:"configMaps,omitempty"`
	// ServiceAccounts are keyed by api.Key(namespace, name): serviceaccounts.go.
	ServiceAccounts map[string]*api.ServiceAccount `json:"serviceAccounts,omitempty"`
	// Services, Endpoints and EndpointSlices are keyed by
	// api.Key(namespace, name): services.go, endpoints.go.
	Services       map[string]*api.Service       `json:"services,omitempty"`
	Endpoints      map[string]*api.Endpoints     `json:"endpoints,omitempty"`
	EndpointSlices map[string]*api.EndpointSlice `json:"endpointSlices,omitempty"`
	// Namespaces are keyed by name: namespaces.go.
	Namespaces map[string]*api.Namespace `json:"namespaces,omitempty"`
	// Jobs are keyed by api.Key(namespace, name): jobs.go.
	Jobs map[string]*api.Job `json:"jobs,omitempty"`
	// CronJobs are keyed by api.Key(namespace, name): cronjobs.go.
	CronJobs map[string]*api.CronJob `json:"cronJobs,omitempty"`
	// Leases are keyed by api.Key(namespace, name): leases.go.
	Leases map[string]*api.Lease `json:"leases,omitempty"`

	// ix is derived from Nodes, Pods and Services, never serialised:
	// index.go.
	ix indexes
	// touched is what the command being applied stored or removed:
	// changes.go.
	touched []touch
}

func newState() *state {
	return &state{Nodes: map[string]*api.Node{}, Pods: map[string]*api.Pod{}, ix: newIndexes()}
}

// copyPod deep-copies a pod with the generated DeepCopy of k8s.io/api,
// which, like the JSON round trip it replaced, cannot forget a field when
// the type grows one, at a tenth of the cost: the round trip was over a
// third of a leader's CPU while it placed 1,000 pods (every commit wakes
// readers that copy pods). Stored values are JSON-shaped by construction
// (they arrived in a log entry or a snapshot, and Apply sets only
// JSON-exact values: times truncated to the second, strings), so the copy
// is what a round trip gave, but that an empty map or list stays empty
// instead of nil: deepcopy_test.go.
func copyPod(p *api.Pod) *api.Pod { return p.DeepCopy() }

// copyNode is copyPod for nodes.
func copyNode(n *api.Node) *api.Node { return n.DeepCopy() }

func mustRoundTrip(in, out any) {
	b, err := json.Marshal(in)
	if err == nil {
		err = json.Unmarshal(b, out)
	}
	if err != nil {
		// Only reachable if api types stop being JSON round-trippable,
		// which would already have broken the log and snapshots.
		panic(fmt.Sprintf("consensus: deep copy %T: %v", in, err))
	}
}

func rv(index uint64) string { return strconv.FormatUint(index, 10) }

// sortedPodKeys gives Apply and readers one order independent of map order.
func (s *state) sortedPodKeys() []string {
	keys := make([]string, 0, len(s.Pods))
	for k := range s.Pods {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s *state) sortedNodeNames() []string {
	names := make([]string, 0, len(s.Nodes))
	for k := range s.Nodes {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Bound reports whether the pod has been bound to a node by a BindPod
// command. spec.nodeName alone is not enough: a manifest may carry it as a
// request before the state machine has accepted a binding and an IP.
func Bound(p *api.Pod) bool {
	if p.Spec.NodeName == "" || p.Status.PodIP == "" {
		return false
	}
	c := podCondition(p, condPodScheduled)
	return c != nil && c.Status == condTrue
}

// Terminal reports whether the pod has finished for good.
func Terminal(p *api.Pod) bool {
	return p.Status.Phase == api.PodSucceeded || p.Status.Phase == api.PodFailed
}

const (
	condPodScheduled = "PodScheduled"
	condReady        = "Ready"
	condTrue         = "True"
	condFalse        = "False"
	condUnknown      = "Unknown"
)

func podCondition(p *api.Pod, typ api.PodConditionType) *api.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == typ {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// setPodCondition sets one condition, moving its transition time only when
// its status changes.
func setPodCondition(p *api.Pod, c api.PodCondition) {
	if old := podCondition(p, c.Type); old != nil {
		if old.Status == c.Status && !old.LastTransitionTime.IsZero() {
			c.LastTransitionTime = old.LastTransitionTime
		}
		*old = c
		return
	}
	p.Status.Conditions = append(p.Status.Conditions, c)
}

func nodeCondition(n *api.Node, typ api.NodeConditionType) *api.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == typ {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

func setNodeCondition(n *api.Node, c api.NodeCondition) {
	if old := nodeCondition(n, c.Type); old != nil {
		if old.Status == c.Status && !old.LastTransitionTime.IsZero() {
			c.LastTransitionTime = old.LastTransitionTime
		}
		*old = c
		return
	}
	n.Status.Conditions = append(n.Status.Conditions, c)
}
