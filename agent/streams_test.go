package agent

import (
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

func TestEventFieldSelectorMatchesInvolvedObject(t *testing.T) {
	ev := &api.Event{InvolvedObject: api.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web", UID: "u1"}, Type: api.EventNormal, Reason: "Started"}
	for sel, want := range map[string]bool{
		"": true,
		"involvedObject.name=web,involvedObject.namespace=default,involvedObject.uid=u1": true,
		"involvedObject.name=db":      false,
		"involvedObject.kind==Pod":    true,
		"type!=Normal":                false,
		"reason=Started,type=Warning": false,
	} {
		match, err := eventFieldSelector(sel)
		if err != nil {
			t.Fatalf("%q: %v", sel, err)
		}
		if got := match(ev); got != want {
			t.Errorf("%q matched %v, want %v", sel, got, want)
		}
	}
	if _, err := eventFieldSelector("metadata.name=x"); err == nil {
		t.Error("an unsupported field selector was accepted")
	}
}

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
