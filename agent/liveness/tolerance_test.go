package liveness

import (
	"strings"
	"testing"
	"time"
)

func TestForPodKeepsTheRuleForEveryToleration(t *testing.T) {
	for _, g := range []time.Duration{time.Second, DefaultNodeGrace, time.Minute} {
		b := WithGrace(g).Budget()
		for _, tol := range []time.Duration{0, time.Second, g, g + time.Millisecond, 60 * time.Second, 10 * time.Minute, 300 * time.Hour, Forever} {
			p := b.ForPod(tol)
			if err := b.CheckPod(p); err != nil {
				t.Errorf("grace %v, tolerated %v: %+v: %v", g, tol, p, err)
			}
		}
	}
	b := Default().Budget()
	// No toleration, or one shorter than the grace: today's fast default.
	for _, tol := range []time.Duration{0, time.Second} {
		if p := b.ForPod(tol); p.ReplaceAfter != 2*time.Second || p.FenceAfter != time.Second {
			t.Errorf("tolerated %v: %+v, want fence after 1s, replace at 2s", tol, p)
		}
	}
	// tolerationSeconds 60 counts from the node's last contact; the node
	// keeps the same 1 s of margins before it.
	if p := b.ForPod(time.Minute); p.ReplaceAfter != time.Minute || p.FenceAfter != 59*time.Second {
		t.Errorf("tolerated 60s: %+v, want fence after 59s, replace at 60s", p)
	}
	if p := b.ForPod(Forever); p.ReplaceAfter != Forever || p.FenceAfter != Forever {
		t.Errorf("tolerated for good: %+v", p)
	}
}

func TestCheckPodFailsOnEachWayOfBreakingTheRule(t *testing.T) {
	b := Default().Budget()
	cases := map[string]struct {
		budget func() Budget
		pod    PodBudget
		want   string
	}{
		// The node waits the toleration, as long as the leader does.
		"node waits the whole toleration": {pod: PodBudget{FenceAfter: time.Minute, ReplaceAfter: time.Minute}, want: "may still run a pod"},
		"node fences a millisecond late":  {pod: PodBudget{FenceAfter: 59*time.Second + time.Millisecond, ReplaceAfter: time.Minute}, want: "may still run a pod"},
		// The node ignores the toleration: it keeps a pod for good that the
		// leader replaces after a minute.
		"node keeps a pod the leader replaces": {pod: PodBudget{FenceAfter: Forever, ReplaceAfter: time.Minute}, want: "may still run a pod"},
		// The leader takes tolerationSeconds 1 literally, before the grace.
		"leader replaces before the grace": {pod: PodBudget{FenceAfter: 0, ReplaceAfter: time.Second}, want: "before the node grace"},
		// The node ignores the toleration the other way: it stops a pod
		// tolerated for good, or a tolerated one at the default.
		"node stops a pod tolerated for good": {pod: PodBudget{FenceAfter: time.Second, ReplaceAfter: Forever}, want: "tolerated for good"},
		"node stops a tolerated pod early":    {pod: PodBudget{FenceAfter: time.Second, ReplaceAfter: time.Minute}, want: "earlier than"},
		// The node's own budget is broken: no per-pod timing saves it.
		"broken node budget": {budget: func() Budget { c := b; c.StopBudget = c.NodeGrace; return c }, pod: b.ForPod(time.Minute), want: "may still run its pods"},
	}
	for name, tc := range cases {
		bb := b
		if tc.budget != nil {
			bb = tc.budget()
		}
		err := bb.CheckPod(tc.pod)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: CheckPod(%+v) = %v, want an error saying %q", name, tc.pod, err, tc.want)
		}
	}
}
