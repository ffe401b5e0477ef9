package consensus

import (
	"errors"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// An event a client writes under its own name (client-go's recorders) is
// stored as given, refused twice by name, replaced with its
// resourceVersion as the precondition, and deleted; a bad one names the
// field and stores nothing.
func TestEventsWrittenThroughTheAPIKeepTheirNames(t *testing.T) {
	h := newHarness(t)
	ev := podEvent("u1", "Started", "started main", t0)
	ev.ObjectMeta = api.ObjectMeta{Namespace: "default", Name: "p-u1.17f"}
	res := h.mustResult(ApplyEvent{Event: ev, Create: true, UID: "e1", Time: t0})
	if !res.Created || res.Event.ObjectMeta.UID != "e1" || res.Event.Count != 1 || res.Event.ObjectMeta.ResourceVersion == "" {
		t.Fatalf("created %+v", res.Event)
	}
	if _, err := h.do(ApplyEvent{Event: ev, Create: true, UID: "e2", Time: t0}); !IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	stale := ev
	stale.ObjectMeta.ResourceVersion = "999"
	stale.Count = 2
	var conflict *ConflictError
	if _, err := h.do(ApplyEvent{Event: stale, Time: t0}); !errors.As(err, &conflict) {
		t.Fatalf("update with a stale resourceVersion: %v, want Conflict", err)
	}
	repeat := *res.Event
	repeat.Count, repeat.LastTimestamp = 2, api.TimeOf(t0.Add(time.Minute))
	res = h.mustResult(ApplyEvent{Event: repeat, Time: t0})
	if got, err := h.f.Event("default", "p-u1.17f"); err != nil || got.Count != 2 || got.ObjectMeta.UID != "e1" || res.Created {
		t.Fatalf("after the repeat: %+v %v", got, err)
	}
	bad := ev
	bad.ObjectMeta.Name, bad.Reason = "p-u1.bad", ""
	var inv *InvalidError
	if _, err := h.do(ApplyEvent{Event: bad, Create: true, UID: "e3", Time: t0}); !errors.As(err, &inv) || inv.Fields[0].Path != "reason" {
		t.Fatalf("an event without a reason: %v, want Invalid naming reason", err)
	}
	if _, err := h.f.Event("default", "p-u1.bad"); err == nil {
		t.Fatal("a refused event was stored")
	}
	h.must(DeleteEvent{Namespace: "default", Name: "p-u1.17f", UID: "e1"})
	if evs, _ := h.f.Events(nil); len(evs) != 0 {
		t.Fatalf("%d events after the delete", len(evs))
	}
	var nf *NotFoundError
	if _, err := h.do(DeleteEvent{Namespace: "default", Name: "p-u1.17f"}); !errors.As(err, &nf) {
		t.Fatalf("second delete: %v, want NotFound", err)
	}
}
