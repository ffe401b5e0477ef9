package consensus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

func podEvent(uid, reason, msg string, at time.Time) api.Event {
	return api.Event{
		InvolvedObject: api.ObjectReference{Kind: "Pod", Namespace: "default", Name: "p-" + uid, UID: api.UID(uid)},
		Reason:         reason, Message: msg, Type: api.EventNormal,
		Source:        api.EventSource{Component: "kubelet", Host: "n1"},
		LastTimestamp: api.TimeOf(at),
	}
}

func TestRecordEventsFoldsRepeatsAndKeepsOrderOfUpdate(t *testing.T) {
	h := newHarness(t)
	t1 := t0.Add(time.Minute)
	h.must(RecordEvents{Events: []api.Event{podEvent("u1", "Pulled", "image present", t0), podEvent("u1", "Started", "started main", t0)}})
	h.must(RecordEvents{Events: []api.Event{podEvent("u1", "Pulled", "image present", t1)}})
	evs, _ := h.f.Events(nil)
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2 (the repeat folded)", len(evs))
	}
	// The folded event was updated last, so it comes last.
	if evs[1].Reason != "Pulled" || evs[1].Count != 2 || !evs[1].LastTimestamp.Time.Equal(t1) || !evs[1].FirstTimestamp.Time.Equal(t0) {
		t.Errorf("folded event %+v, want Pulled count 2 from t0 to t1", evs[1])
	}
	if evs[0].ObjectMeta.Namespace != "default" || evs[0].Kind != "Event" || evs[0].ObjectMeta.Name == "" {
		t.Errorf("stored event lacks its identity: %+v", evs[0])
	}
	bad := podEvent("u1", "", "x", t0)
	_, err := h.do(RecordEvents{Events: []api.Event{podEvent("u1", "Killing", "x", t0), bad}})
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("an event without reason: %v, want InvalidError", err)
	}
	if evs2, _ := h.f.Events(nil); len(evs2) != 2 {
		t.Errorf("a rejected batch stored %d events, want none of it", len(evs2)-2)
	}
}

func TestRecordEventsIsBoundedPerObjectAndFleetWide(t *testing.T) {
	h := newHarness(t)
	for i := 0; i < MaxEventsPerObject+10; i++ {
		h.must(RecordEvents{Events: []api.Event{podEvent("busy", "BackOff", fmt.Sprintf("msg %d", i), t0)}})
	}
	h.must(RecordEvents{Events: []api.Event{podEvent("quiet", "Started", "once", t0)}})
	evs, _ := h.f.Events(func(e *api.Event) bool { return e.InvolvedObject.UID == "busy" })
	if len(evs) != MaxEventsPerObject {
		t.Fatalf("busy pod keeps %d events, want %d", len(evs), MaxEventsPerObject)
	}
	if evs[0].Message != "msg 10" {
		t.Errorf("oldest kept is %q, want the oldest ten dropped", evs[0].Message)
	}
	for i := 0; i < MaxEvents; i++ {
		h.must(RecordEvents{Events: []api.Event{podEvent(fmt.Sprintf("o%d", i), "Started", "x", t0)}})
	}
	all, _ := h.f.Events(nil)
	if len(all) != MaxEvents {
		t.Fatalf("%d events stored, want the cap %d", len(all), MaxEvents)
	}
	if all[0].InvolvedObject.UID != "o0" {
		t.Errorf("oldest kept event is about %s, want o0 (everything older evicted)", all[0].InvolvedObject.UID)
	}
}

func TestEventsSurviveSnapshotRestore(t *testing.T) {
	h := newHarness(t)
	h.must(RecordEvents{Events: []api.Event{podEvent("u1", "Scheduled", "to n1", t0)}})
	restored := snapshotRestored(t, h.f)
	a, _ := h.f.Events(nil)
	b, _ := restored.Events(nil)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if len(b) != 1 || !bytes.Equal(ja, jb) {
		t.Fatalf("restored events %s, want %s", jb, ja)
	}
}
