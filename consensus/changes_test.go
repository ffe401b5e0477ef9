package consensus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// received drains what a subscription has been handed so far.
func received(s *Subscription) (out []*Change, closed bool) {
	for {
		select {
		case c, ok := <-s.C:
			if !ok {
				return out, true
			}
			out = append(out, c)
		default:
			return out, false
		}
	}
}

func describe(cs []*Change) string {
	var parts []string
	for _, c := range cs {
		what := "changed"
		switch {
		case c.Prev == nil:
			what = "created"
		case c.Object == nil:
			what = "removed"
		}
		parts = append(parts, fmt.Sprintf("%s %s %s@%d", c.Kind, c.Key, what, c.Index))
	}
	return strings.Join(parts, ", ")
}

func TestChangeStreamCarriesEveryStoredObjectWithItsIndex(t *testing.T) {
	h := newHarness(t)
	h.must(node("n1", "4Gi", "192.168.50.2"), ready("n1"))
	pods, err := h.f.Changes().Subscribe(KindPod, h.idx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pods.Close()
	nodes, err := h.f.Changes().Subscribe(KindNode, h.idx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer nodes.Close()

	h.must(create("web", "64Mi"), bind("web", "n1", "10.244.0.2"))
	// A node that turns not ready changes the node and its running pods
	// in one command: both streams get the same index.
	h.must(UpdatePodStatus{Namespace: "default", Name: "web", UID: "uid-web", Node: "n1", Status: api.PodStatus{Phase: api.PodRunning}, Time: t0},
		SetNodeCondition{Name: "n1", Ready: false, Reason: "Lost", Time: t0})
	h.must(DeletePod{Namespace: "default", Name: "web"})

	got, closed := received(pods)
	want := "Pod default/web created@3, Pod default/web changed@4, Pod default/web changed@5, Pod default/web changed@6, Pod default/web removed@7"
	if describe(got) != want || closed {
		t.Fatalf("pod changes = %s (closed %v), want %s", describe(got), closed, want)
	}
	if got[3].PrevAttrs().Fields["status.phase"] != "Running" || got[3].ObjectAttrs().Fields["status.phase"] != "Unknown" {
		t.Errorf("node loss: prev phase %q, now %q", got[3].PrevAttrs().Fields["status.phase"], got[3].ObjectAttrs().Fields["status.phase"])
	}
	var o struct {
		Kind, APIVersion string
		Metadata         struct{ ResourceVersion string }
	}
	if err := json.Unmarshal(got[0].Object, &o); err != nil || o.Kind != "Pod" || o.APIVersion != "v1" || o.Metadata.ResourceVersion != "3" {
		t.Errorf("created object = %s (%v): want kind, apiVersion and resourceVersion 3", got[0].Object, err)
	}
	if err := json.Unmarshal(got[4].Gone(), &o); err != nil || o.Metadata.ResourceVersion != "7" {
		t.Errorf("deleted object = %s: want the last state at resourceVersion 7", got[4].Gone())
	}
	if got, _ := received(nodes); describe(got) != "Node n1 changed@6" {
		t.Errorf("node changes = %s, want Node n1 changed@6", describe(got))
	}
}

func TestChangeStreamReplaysItsWindowAndExpiresOlderVersions(t *testing.T) {
	h := newHarness(t)
	h.f.changes = NewChangeStream(3, 0)
	for i := range 5 {
		h.must(create(fmt.Sprintf("p%d", i), "64Mi")) // indexes 1..5
	}
	s, err := h.f.Changes().Subscribe(KindPod, 3, false)
	if err != nil {
		t.Fatalf("watch from 3 with changes 3..5 kept: %v", err)
	}
	if describe(s.Replay) != "Pod default/p3 created@4, Pod default/p4 created@5" || s.Index != 5 {
		t.Errorf("replay from 3 = %s at %d", describe(s.Replay), s.Index)
	}
	s.Close()
	_, err = h.f.Changes().Subscribe(KindPod, 1, false)
	var exp *ExpiredError
	if !errors.As(err, &exp) || exp.Oldest != 2 || err.Error() != "too old resource version: 1 (2)" {
		t.Fatalf("watch from 1 after change 2 left the window: %v", err)
	}
	// A kind nothing changed keeps everything since the start.
	if _, err := h.f.Changes().Subscribe(KindSecret, 0, false); err != nil {
		t.Errorf("secrets from 0: %v", err)
	}
	if _, err := h.f.Changes().Subscribe("Widget", 0, false); err == nil {
		t.Error("a kind the state does not hold was subscribed to")
	}
}

func TestChangeStreamStartsWithTheCurrentObjectsWhenAsked(t *testing.T) {
	h := newHarness(t)
	h.must(create("b", "64Mi"), create("a", "64Mi"), create("gone", "64Mi"), DeletePod{Namespace: "default", Name: "gone"})
	s, err := h.f.Changes().Subscribe(KindPod, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if describe(s.Initial) != "Pod default/a created@4, Pod default/b created@4" || s.Index != 4 || len(s.Replay) != 0 {
		t.Fatalf("initial = %s at %d, replay %s", describe(s.Initial), s.Index, describe(s.Replay))
	}
	h.must(create("c", "64Mi"))
	if got, _ := received(s); describe(got) != "Pod default/c created@5" {
		t.Errorf("after the initial objects: %s", describe(got))
	}
}

func TestChangeStreamDropsAWatcherThatFallsBehindWithoutBlockingApply(t *testing.T) {
	h := newHarness(t)
	h.f.changes = NewChangeStream(0, 2)
	slow, _ := h.f.Changes().Subscribe(KindPod, 0, false)
	fast, _ := h.f.Changes().Subscribe(KindPod, 0, false)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 5 {
			h.must(create(fmt.Sprintf("p%d", i), "64Mi"))
			if got, closed := received(fast); len(got) != 1 || closed {
				t.Errorf("fast watcher after write %d: %s closed %v", i, describe(got), closed)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Apply blocked on a watcher that does not read")
	}
	got, closed := received(slow)
	if len(got) != 2 || !closed {
		t.Errorf("slow watcher got %s, closed %v: want its 2 buffered changes, then closed", describe(got), closed)
	}
	slow.Close() // closing a dropped watcher again is harmless
	fast.Close()
	if _, closed := received(fast); !closed {
		t.Error("Close left the channel open")
	}
}

func TestChangeStreamAfterARestoreDropsWatchersAndExpiresOlderVersions(t *testing.T) {
	h := newHarness(t)
	h.must(create("a", "64Mi"), create("b", "64Mi"))
	snap, err := h.f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	data := snap.(*snapshot).data
	other := newHarness(t)
	s, _ := other.f.Changes().Subscribe(KindPod, 0, false)
	if err := other.f.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
		t.Fatal(err)
	}
	if _, closed := received(s); !closed {
		t.Error("a watcher survived the state being replaced")
	}
	if _, err := other.f.Changes().Subscribe(KindPod, 1, false); !errors.As(err, new(*ExpiredError)) {
		t.Errorf("watch from before the snapshot: %v, want Expired", err)
	}
	s, err = other.f.Changes().Subscribe(KindPod, 0, true)
	if err != nil || describe(s.Initial) != "Pod default/a created@2, Pod default/b created@2" {
		t.Fatalf("initial after restore = %s (%v)", describe(s.Initial), err)
	}
	// The next change of a restored object knows what it was.
	other.idx = 2
	other.must(DeletePod{Namespace: "default", Name: "a"})
	if got, _ := received(s); len(got) != 1 || got[0].Prev == nil || got[0].Object != nil {
		t.Errorf("delete after restore = %s", describe(got))
	}
}

func TestChangeStreamRemovesEventsTheLogEvicts(t *testing.T) {
	h := newHarness(t)
	s, _ := h.f.Changes().Subscribe(KindEvent, 0, false)
	defer s.Close()
	var batch []api.Event
	for i := range MaxEventsPerObject {
		batch = append(batch, podEvent("u1", fmt.Sprintf("R%d", i), "m", t0))
	}
	h.must(RecordEvents{Events: batch})
	if got, _ := received(s); len(got) != MaxEventsPerObject || got[0].Prev != nil {
		t.Fatalf("first batch: %d changes", len(got))
	}
	h.must(RecordEvents{Events: []api.Event{podEvent("u1", "R0", "m", t0), podEvent("u1", "New", "m", t0)}})
	got, _ := received(s)
	var created, changed, removed int
	for _, c := range got {
		switch {
		case c.Prev == nil:
			created++
		case c.Object == nil:
			removed++
		default:
			changed++
		}
	}
	// R0 folds (changed), New is added, and the oldest of the rest, R1,
	// leaves the per-object bound.
	if created != 1 || changed != 1 || removed != 1 {
		t.Errorf("second batch: %s", describe(got))
	}
}
