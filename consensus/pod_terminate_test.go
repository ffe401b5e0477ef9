package consensus

import (
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

func gracefulDelete(name string, grace *int64, at time.Time) DeleteObject {
	return DeleteObject{Kind: KindPod, Namespace: "default", Name: name, Graceful: true, GracePeriodSeconds: grace, Time: at}
}

func int64p(v int64) *int64 { return &v }

func boundPodHarness(t *testing.T) *harness {
	h := newHarness(t)
	h.must(node("a", "1Gi", "192.168.50.2"), ready("a"), create("web", "100Mi"), bind("web", "a", "10.244.0.2"))
	return h
}

// A graceful delete of a pod bound to a ready node marks it Terminating
// with the pod's own grace (30 s by default); it keeps its IP until its
// node's final delete (grace 0) removes it.
func TestGracefulDeleteMarksTerminatingThenFinalDeleteRemoves(t *testing.T) {
	h := boundPodHarness(t)
	res, err := h.do(gracefulDelete("web", nil, t0))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Pod == nil {
		t.Fatalf("result %+v: want the changed pod", res)
	}
	p, err := h.f.Pod("default", "web")
	if err != nil {
		t.Fatalf("pod gone after a graceful delete: %v", err)
	}
	if !Terminating(p) || !p.ObjectMeta.DeletionTimestamp.Time.Equal(t0.Add(30*time.Second)) ||
		p.ObjectMeta.DeletionGracePeriodSeconds == nil || *p.ObjectMeta.DeletionGracePeriodSeconds != 30 {
		t.Fatalf("deletionTimestamp %v grace %v, want %v and 30", p.ObjectMeta.DeletionTimestamp, p.ObjectMeta.DeletionGracePeriodSeconds, t0.Add(30*time.Second))
	}
	if p.ObjectMeta.ResourceVersion != rv(h.idx) {
		t.Fatalf("resourceVersion %s, want %s (a MODIFIED event)", p.ObjectMeta.ResourceVersion, rv(h.idx))
	}
	// The IP stays taken while the pod terminates.
	h.must(create("next", "100Mi"))
	if _, err := h.do(bind("next", "a", "10.244.0.2")); err == nil {
		t.Fatal("a terminating pod's IP was handed out again")
	}
	// A second delete with a longer grace changes nothing.
	before := h.stateJSON()
	if res, err := h.do(gracefulDelete("web", int64p(60), t0.Add(time.Second))); err != nil || res.Changed {
		t.Fatalf("longer grace: %+v, %v; want unchanged", res, err)
	}
	if h.stateJSON() != before {
		t.Fatal("a longer grace changed the state")
	}
	// A shorter one brings the deadline forward.
	h.must(gracefulDelete("web", int64p(5), t0.Add(time.Second)))
	p, _ = h.f.Pod("default", "web")
	if !p.ObjectMeta.DeletionTimestamp.Time.Equal(t0.Add(6*time.Second)) || *p.ObjectMeta.DeletionGracePeriodSeconds != 5 {
		t.Fatalf("after a shorter grace: %v, %d", p.ObjectMeta.DeletionTimestamp, *p.ObjectMeta.DeletionGracePeriodSeconds)
	}
	// The node's final delete.
	h.must(DeleteObject{Kind: KindPod, Namespace: "default", Name: "web", UID: "uid-web", Graceful: true, GracePeriodSeconds: int64p(0), Time: t0.Add(7 * time.Second)})
	if _, err := h.f.Pod("default", "web"); !IsNotFound(err) {
		t.Fatalf("after the final delete: %v, want NotFound", err)
	}
	h.must(bind("next", "a", "10.244.0.2"))
}

// Grace 0 (kubectl delete --grace-period=0 --force), a pod's own
// terminationGracePeriodSeconds of 0, an unbound pod, a finished pod and
// a pod on a node that is not ready are removed at once.
func TestGracefulDeleteRemovesAtOnce(t *testing.T) {
	zero := int64(0)
	for name, c := range map[string]struct {
		setup []Command
		grace *int64
	}{
		"grace 0":       {grace: &zero},
		"pod's grace 0": {setup: []Command{DeletePod{Namespace: "default", Name: "web"}, withGrace(create("web", "100Mi"), 0), bind("web", "a", "10.244.0.2")}},
		"unbound":       {setup: []Command{create("pending", "100Mi"), DeletePod{Namespace: "default", Name: "web"}, renamed(create("web", "100Mi"))}},
		"finished": {setup: []Command{UpdatePodStatus{Namespace: "default", Name: "web", UID: "uid-web", Node: "a",
			Status: api.PodStatus{Phase: api.PodSucceeded}, Time: t0}}},
		"node not ready": {setup: []Command{SetNodeCondition{Name: "a", Ready: false, Reason: "NodeLost", Time: t0}}},
	} {
		h := boundPodHarness(t)
		h.must(c.setup...)
		if _, err := h.do(gracefulDelete("web", c.grace, t0)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := h.f.Pod("default", "web"); !IsNotFound(err) {
			t.Errorf("%s: pod still stored (%v), want removed at once", name, err)
		}
	}
}

func withGrace(c CreatePod, g int64) CreatePod {
	c.Pod.Spec.TerminationGracePeriodSeconds = &g
	return c
}

func renamed(c CreatePod) CreatePod {
	c.UID = "uid-web-2"
	return c
}

// A terminating pod whose node turns not ready is removed: nothing would
// ever confirm that it stopped. A negative grace is refused by name.
func TestTerminatingPodGoesWithItsNode(t *testing.T) {
	h := boundPodHarness(t)
	h.must(gracefulDelete("web", nil, t0))
	before := h.stateJSON()
	if _, err := h.do(gracefulDelete("web", int64p(-1), t0)); err == nil || !IsInvalid(err) {
		t.Fatalf("negative grace: %v, want Invalid", err)
	}
	if h.stateJSON() != before {
		t.Fatal("a refused delete changed the state")
	}
	h.must(SetNodeCondition{Name: "a", Ready: false, Reason: "NodeLost", Time: t0})
	if _, err := h.f.Pod("default", "web"); !IsNotFound(err) {
		t.Fatalf("terminating pod on a lost node: %v, want removed", err)
	}
}
