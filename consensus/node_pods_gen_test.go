package consensus

import (
	"testing"

	"github.com/shoal-dev/shoal/api"
)

// A node's pods generation moves with every change to a pod on it (bind,
// status report, delete) and with nothing else (another node's pods, a
// node condition, an unbound pod), and keeps growing across a Restore.
func TestPodsOnNodeGenMovesWithTheNodesPodsOnly(t *testing.T) {
	h := newHarness(t)
	h.must(node("a", "1Gi", "192.168.50.2"), ready("a"), node("b", "1Gi", "192.168.50.3"), ready("b"))
	a := func() uint64 { return h.f.PodsOnNodeGen("a") }
	g0 := a()
	h.must(create("p1", "64Mi"), create("q1", "64Mi"))
	if a() != g0 {
		t.Error("pods not yet bound moved node a's generation")
	}
	h.must(bind("q1", "b", "10.244.1.2"), ready("a"))
	if a() != g0 {
		t.Error("a pod bound to b, or a's condition, moved a's generation")
	}
	steps := []struct {
		what string
		cmd  Command
	}{
		{"bind to a", bind("p1", "a", "10.244.0.2")},
		{"status report", UpdatePodStatus{Namespace: "default", Name: "p1", UID: "uid-p1", Node: "a", Status: api.PodStatus{Phase: api.PodRunning}, Time: t0}},
		{"delete", DeletePod{Namespace: "default", Name: "p1", UID: "uid-p1"}},
	}
	last := a()
	for _, s := range steps {
		h.must(s.cmd)
		if g := a(); g <= last {
			t.Fatalf("%s: a's generation %d, not past %d", s.what, g, last)
		}
		last = a()
	}

	// A restore (a follower catching up by snapshot) gives every node
	// with pods a generation past any it had.
	h.must(create("p2", "64Mi"), bind("p2", "a", "10.244.0.3"))
	before := a()
	snap := snapshotRestored(t, h.f)
	snapData, err := snap.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snapData.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	if err := h.f.Restore(nopCloser{&sink}); err != nil {
		t.Fatal(err)
	}
	if g := a(); g <= before {
		t.Errorf("after a restore: a's generation %d, not past %d", g, before)
	}
}

type nopCloser struct{ *memSink }

func (nopCloser) Close() error { return nil }
