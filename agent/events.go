package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/podruntime"
)

// Event sources, shown in the From column of `describe`.
const (
	sourceNode      = "shoal-node"
	sourceScheduler = "shoal-scheduler"
)

const (
	// eventBatchDelay gathers the events of one reconcile pass into one
	// Raft entry.
	eventBatchDelay = 300 * time.Millisecond
	// maxPendingEvents bounds what a node holds while the leader is away;
	// past it the oldest are dropped (they are history, not state).
	maxPendingEvents = 512
	maxEventsPerPost = 128
)

// eventBatcher is the node's podruntime.EventRecorder: it folds repeats and
// sends events to the leader in batches, off the reconciler's path.
type eventBatcher struct {
	a       *Agent
	mu      sync.Mutex
	pending []api.Event
	kick    chan struct{}
	now     func() time.Time
}

func newEventBatcher(a *Agent) *eventBatcher {
	return &eventBatcher{a: a, kick: make(chan struct{}, 1), now: time.Now}
}

// Event implements podruntime.EventRecorder; it never blocks.
func (b *eventBatcher) Event(pod *api.Pod, eventType, reason, message string) {
	b.add(podEventOf(pod, eventType, reason, message, sourceNode, b.a.cfg.Name, b.now()))
}

func podEventOf(pod *api.Pod, eventType, reason, message, component, host string, at time.Time) api.Event {
	t := api.TimeOf(at)
	return api.Event{
		InvolvedObject: api.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.ObjectMeta.Namespace, Name: pod.ObjectMeta.Name, UID: pod.ObjectMeta.UID},
		Reason:         reason, Message: message, Type: eventType,
		Source:         api.EventSource{Component: component, Host: host},
		FirstTimestamp: t, LastTimestamp: t, Count: 1,
	}
}

func (b *eventBatcher) add(ev api.Event) {
	b.mu.Lock()
	folded := false
	for i := range b.pending {
		p := &b.pending[i]
		if p.InvolvedObject.UID == ev.InvolvedObject.UID && p.Type == ev.Type && p.Reason == ev.Reason && p.Message == ev.Message {
			p.Count++
			p.LastTimestamp = ev.LastTimestamp
			folded = true
			break
		}
	}
	if !folded {
		if len(b.pending) >= maxPendingEvents {
			b.pending = b.pending[1:]
		}
		b.pending = append(b.pending, ev)
	}
	b.mu.Unlock()
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// run sends pending events until ctx is done, retrying while no leader
// takes them.
func (b *eventBatcher) run(ctx context.Context) {
	hc := b.a.internalClient(10 * time.Second)
	retry := time.Second
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.kick:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(eventBatchDelay):
		}
		for {
			b.mu.Lock()
			n := min(len(b.pending), maxEventsPerPost)
			batch := append([]api.Event(nil), b.pending[:n]...)
			b.mu.Unlock()
			if n == 0 {
				break
			}
			if err := b.post(ctx, hc, batch); err != nil {
				b.a.log.Debug("send events", "count", n, "err", err)
				select {
				case <-ctx.Done():
					return
				case <-time.After(retry):
				}
				continue
			}
			b.mu.Lock()
			// Events folded into the sent ones meanwhile stay pending with
			// their new counts: drop exactly what was sent.
			b.pending = dropSent(b.pending, batch)
			b.mu.Unlock()
		}
	}
}

// dropSent removes the sent events from pending; one that gained repeats
// while in flight stays with only the new repeats counted.
func dropSent(pending, sent []api.Event) []api.Event {
	out := pending[:0]
	for i, p := range pending {
		if i < len(sent) {
			if extra := p.Count - sent[i].Count; extra > 0 {
				p.Count = extra
				p.FirstTimestamp = p.LastTimestamp
				out = append(out, p)
			}
			continue
		}
		out = append(out, p)
	}
	return out
}

func (b *eventBatcher) post(ctx context.Context, hc *http.Client, events []api.Event) error {
	body, err := json.Marshal(consensus.RecordEvents{Events: events})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+b.a.self.API+"/shoal/v1/events", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// recordEvents is POST /shoal/v1/events on the leader.
func (a *Agent) recordEvents(w http.ResponseWriter, r *http.Request) {
	var cmd consensus.RecordEvents
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes)).Decode(&cmd); err != nil {
		writeError(w, a.log, invalid(fmt.Errorf("decode events: %w", err)))
		return
	}
	res, err := a.raft().Apply(r.Context(), cmd)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	w.Header().Set(indexHeader, strconv.FormatUint(res.Index, 10))
	writeJSON(w, http.StatusOK, map[string]int{"recorded": len(cmd.Events)})
}

// recordLeaderEvent stores an event the leader itself observed
// (Scheduled, FailedScheduling), in the background: an event is never
// worth holding up placement.
func (a *Agent) recordLeaderEvent(pod *api.Pod, eventType, reason, message string) {
	ev := podEventOf(pod, eventType, reason, message, sourceScheduler, "", time.Now())
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := a.raft().Apply(ctx, consensus.RecordEvents{Events: []api.Event{ev}}); err != nil {
			a.log.Debug("record event", "pod", api.KeyOf(pod), "reason", reason, "err", err)
		}
	}()
}

// eventRecorders hands each pod event to several recorders.
type eventRecorders []podruntime.EventRecorder

func (rs eventRecorders) Event(pod *api.Pod, eventType, reason, message string) {
	for _, r := range rs {
		r.Event(pod, eventType, reason, message)
	}
}
