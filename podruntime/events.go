package podruntime

import (
	"sync"

	"github.com/shoal-dev/shoal/api"
)

// EventRecorder receives what happened to a pod on this node (Created,
// Started, Killing, Unhealthy, BackOff, Failed), as Kubernetes events. It is
// called from the reconciler and from probe goroutines, so it must be safe
// for concurrent use, and it must not block for long.
type EventRecorder interface {
	Event(pod *api.Pod, eventType, reason, message string)
}

// Event types, as in Kubernetes.
const (
	EventNormal  = "Normal"
	EventWarning = "Warning"
)

type discardEvents struct{}

func (discardEvents) Event(*api.Pod, string, string, string) {}

// eventOnce remembers which repeating conditions (a back-off, a missing
// image) were already reported, so a reconcile loop that sees them every
// few seconds reports each once.
type eventOnce struct {
	mu   sync.Mutex
	seen map[string]map[string]bool // pod uid -> key
}

func newEventOnce() *eventOnce { return &eventOnce{seen: map[string]map[string]bool{}} }

// first reports whether key is new for the pod, and remembers it.
func (o *eventOnce) first(podUID, key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.seen[podUID]
	if m == nil {
		m = map[string]bool{}
		o.seen[podUID] = m
	}
	if m[key] {
		return false
	}
	m[key] = true
	return true
}

func (o *eventOnce) forget(podUID string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.seen, podUID)
}

func (r *Runtime) event(pod *api.Pod, eventType, reason, message string) {
	r.events.Event(pod, eventType, reason, message)
}

// eventOnce reports an event only the first time key is seen for the pod.
func (r *Runtime) eventOnce(pod *api.Pod, key, eventType, reason, message string) {
	if r.eventsSeen.first(string(pod.ObjectMeta.UID), key) {
		r.event(pod, eventType, reason, message)
	}
}
