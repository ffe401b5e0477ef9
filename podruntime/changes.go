package podruntime

import (
	"context"
	"time"

	"github.com/containerd/containerd/api/events"
	"github.com/containerd/typeurl/v2"
)

// Changes receives when something happened on this node that the node's
// reconciler would otherwise find only at its next periodic look: a
// container's main process exited or was OOM-killed (containerd's event
// stream, WatchExits), or a probe changed a container's started, ready or
// restart verdict. Sends never block and coalesce: one receive may stand
// for many changes, and the receiver looks at all its pods. With it the
// reconciler can look at settled pods rarely instead of every two seconds
// (agent/node/reconciler.go), which was most of an idle node's per-pod
// CPU (docs/performance.md).
func (r *Runtime) Changes() <-chan struct{} { return r.changes }

// changed signals Changes.
func (r *Runtime) changed() {
	select {
	case r.changes <- struct{}{}:
	default:
	}
}

// exitTopics are the containerd events that change a pod's status without
// the fleet's state changing.
var exitTopics = []string{`topic=="/tasks/exit"`, `topic=="/tasks/oom"`}

// WatchExits follows containerd's event stream for this runtime's
// namespace until ctx ends, signalling Changes at each exit of a
// container's main process (not an exec's: exec probes and kubectl exec
// end every few seconds and change no status) and each OOM kill. A broken
// stream is subscribed again; since events may have been lost meanwhile,
// Changes is signalled once it is back.
func (r *Runtime) WatchExits(ctx context.Context) {
	for delay := 200 * time.Millisecond; ctx.Err() == nil; {
		err := r.followExits(ctx)
		if ctx.Err() != nil {
			return
		}
		r.log.Warn("containerd event stream broke; subscribing again", "err", err, "in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
		r.changed()
	}
}

// followExits reads one subscription until it breaks.
func (r *Runtime) followExits(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	envelopes, errs := r.client.Subscribe(ctx, exitTopics...)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errs:
			return err
		case e := <-envelopes:
			if e == nil || e.Namespace != r.ns {
				continue
			}
			if mainExit(e.Topic, e.Event) {
				r.changed()
			}
		}
	}
}

// mainExit tells whether an exit or OOM event concerns a container's main
// process. An event it cannot read counts: a needless look costs less
// than a missed exit.
func mainExit(topic string, event typeurl.Any) bool {
	if topic != "/tasks/exit" || event == nil {
		return true
	}
	v, err := typeurl.UnmarshalAny(event)
	if err != nil {
		return true
	}
	exit, ok := v.(*events.TaskExit)
	return !ok || exit.ID == exit.ContainerID || exit.ID == ""
}
