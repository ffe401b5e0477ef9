package node

import (
	"reflect"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// passGate spares the node reconciler passes that cannot change anything.
// The assignments query wakes every node at every change of the fleet's
// state, wherever it happened, and a pass asks the runtime about each of
// the node's pods. During a failover on a 20-node lab the state changes
// dozens of times a second (binds, creates, status reports) and the
// nodes with nothing new spent tens of seconds of passes over their
// unchanged pods, most of it queued at the containerd the lab shares,
// while the nodes given replacements waited there to start them. A view
// equal to the one the last pass acted on is skipped, but never for
// longer than the resync interval, which still brings the periodic look
// at containers that exited on their own and at pods a pass failed on.
//
// Nor does a pod whose only change is the status this node reported on
// it (and the resource version that write gave it): each report came back
// as a view that called for a pass over every pod of the node, which asks
// the runtime and the API about each; on a failover each node given a
// replacement made that pass just when the others were starting theirs.
type passGate struct {
	last     *Assignments // the view the last pass acted on; nil: none
	lastPass time.Time    // when that pass began
	// ours tells whether a pod's status in a view is the one this node
	// last reported on it; nil: none is.
	ours func(p *api.Pod) bool
}

// need tells whether view calls for a pass at now.
func (g *passGate) need(view *Assignments, now time.Time, resync time.Duration) bool {
	if g.last == nil || now.Sub(g.lastPass) >= resync {
		return true
	}
	return !g.samePods(g.last.Pods, view.Pods) || !reflect.DeepEqual(g.last.Nodes, view.Nodes)
}

// samePods tells whether b holds the pods of a, each as it was but for a
// status this node reported.
func (g *passGate) samePods(a, b []api.Pod) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if reflect.DeepEqual(a[i], b[i]) {
			continue
		}
		if g.ours == nil || !g.ours(&b[i]) {
			return false
		}
		x, y := a[i], b[i]
		x.Status, y.Status = api.PodStatus{}, api.PodStatus{}
		x.ObjectMeta.ResourceVersion, y.ObjectMeta.ResourceVersion = "", ""
		x.ObjectMeta.ManagedFields, y.ObjectMeta.ManagedFields = nil, nil
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

// peersOnly tells whether view, which needs a pass, differs from the one
// the last pass acted on only in the fleet's nodes, with no resync due:
// then only the routes to peers can change, and asking the runtime about
// every pod is waste. A node turning NotReady changes every node's view
// at once; during a failover on a 20-node lab that woke all of them for
// a pass over their pods, twice, at the containerd the lab shares, while
// the few nodes given replacements waited there to start them.
func (g *passGate) peersOnly(view *Assignments, now time.Time, resync time.Duration) bool {
	return g.last != nil && now.Sub(g.lastPass) < resync && g.samePods(g.last.Pods, view.Pods)
}

// peersSynced records a pass over view's peers only: the pods' resync
// interval still counts from the last pass over them.
func (g *passGate) peersSynced(view *Assignments) { g.last = view }

// passed records a pass over view that began at start.
func (g *passGate) passed(view *Assignments, start time.Time) {
	g.last, g.lastPass = view, start
}

// reset forgets the last pass, so the next view gets one whatever it holds:
// after a gap in contact (the node may have fenced its pods meanwhile) or
// a view the reconciler was not allowed to act on.
func (g *passGate) reset() { g.last = nil }
