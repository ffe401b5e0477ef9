package agent

import (
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

func TestEventBatcherFoldsRepeatsAndKeepsThoseArrivedInFlight(t *testing.T) {
	b := &eventBatcher{a: &Agent{cfg: Config{Name: "n1"}}, kick: make(chan struct{}, 1), now: func() time.Time { return time.Unix(100, 0) }}
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default", UID: "u1"}}
	b.Event(pod, api.EventWarning, "BackOff", "back-off")
	b.Event(pod, api.EventWarning, "BackOff", "back-off")
	b.Event(pod, api.EventNormal, "Started", "started")
	if len(b.pending) != 2 || b.pending[0].Count != 2 || b.pending[0].Source.Host != "n1" {
		t.Fatalf("pending %+v, want BackOff x2 and Started", b.pending)
	}
	sent := append([]api.Event(nil), b.pending...)
	b.Event(pod, api.EventWarning, "BackOff", "back-off") // while the batch is in flight
	b.pending = dropSent(b.pending, sent)
	if len(b.pending) != 1 || b.pending[0].Reason != "BackOff" || b.pending[0].Count != 1 {
		t.Errorf("after sending, pending %+v, want only the one BackOff that came in flight", b.pending)
	}
}
