package node

import (
	"context"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// DefaultSteadyResync is how long the reconciler goes without a pass while
// every pod is settled and the runtime signals its changes. Exits and
// probe verdicts arrive as they happen (Deps.Changes), and the fleet's
// changes through the blocking query, so this pass only catches what
// neither signals: an event lost while containerd's stream was down for
// less than a reconnect, a container removed behind the agent's back, and
// the files of ConfigMap and Secret volumes, which a pass refreshes. The
// kubelet looks at each pod once a minute (syncFrequency) and serves
// volumes from a cache as old again; half a minute keeps shoal's volume
// updates ahead of it. A pass asks containerd about every container and
// the API about every ConfigMap and Secret its pods use: every two seconds
// that was most of an idle node's CPU per pod (docs/performance.md).
const DefaultSteadyResync = 30 * time.Second

// settled tells whether a pod, as the node just observed it, needs no
// look until something changes: it runs and is ready, or it has finished.
// Anything else (starting, pulling, waiting for a key, in crash back-off,
// not ready) may change with no event to say so (a back-off expiring, a
// pull ending), so it keeps the short resync.
func settled(st api.PodStatus) bool {
	switch st.Phase {
	case api.PodSucceeded, api.PodFailed:
		return true
	case api.PodRunning:
	default:
		return false
	}
	for _, c := range st.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

// nextResync is the wait for the next blocking query after a pass: the
// short resync while any pod is unsettled or when nothing signals the
// runtime's changes, else the steady one.
func (n *Reconciler) nextResync() time.Duration {
	if n.d.Changes == nil || n.unsettled.Load() > 0 {
		return n.cfg.Resync
	}
	return n.cfg.SteadyResync
}

// fetch is the blocking assignments query, cut short when the runtime
// signals a change (woken); the caller then looks at every pod.
func (n *Reconciler) fetch(ctx context.Context, after uint64, wait time.Duration) (view *Assignments, woken bool, err error) {
	if n.d.Changes == nil {
		view, err = n.d.Assignments.Assignments(ctx, after, wait)
		return view, false, err
	}
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done, watched := make(chan struct{}), make(chan bool, 1)
	go func() {
		select {
		case <-n.d.Changes.Changes():
			cancel()
			watched <- true
		case <-done:
			watched <- false
		}
	}()
	view, err = n.d.Assignments.Assignments(qctx, after, wait)
	close(done)
	return view, <-watched, err
}
