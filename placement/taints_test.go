package placement

import (
	"errors"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func TestCordonedNodesAreSkippedAndExplained(t *testing.T) {
	a, b := node("a", "4Gi", "2", nil), node("b", "4Gi", "2", nil)
	a.Node.Spec.Unschedulable = true
	for i := 0; i < 10; i++ {
		p := pod("1Gi")
		p.ObjectMeta.Name = "p" + string(rune('0'+i)) // vary the walk's start
		if got, _, err := Choose(p, []NodeInfo{a, b}); err != nil || got != "b" {
			t.Fatalf("Choose = %q, %v; want b (a is cordoned)", got, err)
		}
	}
	b.Node.Spec.Unschedulable = true
	_, f, err := Choose(pod("1Gi"), []NodeInfo{a, b})
	if !errors.Is(err, ErrNoFit) || !strings.Contains(f.String(), "0/2 nodes are available: 2 node(s) were unschedulable") {
		t.Fatalf("Choose = %v, %v", f, err)
	}
	// A pod that tolerates the unschedulable taint (a DaemonSet's) still lands.
	p := pod("1Gi")
	p.Spec.Tolerations = []api.Toleration{{Key: api.TaintUnschedulable, Operator: "Exists", Effect: api.TaintNoSchedule}}
	if _, _, err := Choose(p, []NodeInfo{a, b}); err != nil {
		t.Fatalf("a pod tolerating node.kubernetes.io/unschedulable: %v", err)
	}
}

func TestTaintsNeedTolerations(t *testing.T) {
	a, b := node("a", "4Gi", "2", nil), node("b", "4Gi", "2", nil)
	a.Node.Spec.Taints = []api.Taint{{Key: "dedicated", Value: "gpu", Effect: api.TaintNoSchedule}}
	b.Node.Spec.Taints = []api.Taint{{Key: "flaky", Effect: api.TaintNoExecute}}
	_, f, err := Choose(pod("1Gi"), []NodeInfo{a, b})
	if !errors.Is(err, ErrNoFit) {
		t.Fatalf("Choose: %v", err)
	}
	msg := f.String()
	for _, want := range []string{"1 node(s) had untolerated taint {dedicated: gpu}", "1 node(s) had untolerated taint {flaky: }",
		"a: taint {dedicated: gpu} not tolerated"} {
		if !strings.Contains(msg, want) {
			t.Errorf("NoFit %q lacks %q", msg, want)
		}
	}
	p := pod("1Gi")
	p.Spec.Tolerations = []api.Toleration{{Key: "dedicated", Value: "gpu", Effect: api.TaintNoSchedule}}
	if got, _, err := Choose(p, []NodeInfo{a, b}); err != nil || got != "a" {
		t.Fatalf("Choose with toleration = %q, %v; want a", got, err)
	}
	if ok, why := Fits(pod("1Gi"), a); ok || why != "a: taint {dedicated: gpu} not tolerated" {
		t.Fatalf("Fits = %v %q", ok, why)
	}
}

func TestPreferNoScheduleIsAPreference(t *testing.T) {
	// a is emptier, so it would win on score; its PreferNoSchedule taint
	// sends the pod to b, and to a only when b does not fit.
	a, b := node("a", "8Gi", "4", nil), node("b", "2Gi", "1", nil)
	a.Node.Spec.Taints = []api.Taint{{Key: "spare", Effect: api.TaintPreferNoSchedule}}
	if got, _, err := Choose(pod("1Gi"), []NodeInfo{a, b}); err != nil || got != "b" {
		t.Fatalf("Choose = %q, %v; want b", got, err)
	}
	if got, _, err := Choose(pod("3Gi"), []NodeInfo{a, b}); err != nil || got != "a" {
		t.Fatalf("Choose (only a fits) = %q, %v; want a", got, err)
	}
	p := pod("1Gi")
	p.Spec.Tolerations = []api.Toleration{{Key: "spare", Operator: "Exists"}}
	if got, _, err := Choose(p, []NodeInfo{a, b}); err != nil || got != "a" {
		t.Fatalf("Choose tolerating = %q, %v; want a", got, err)
	}
}
