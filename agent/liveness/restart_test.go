package liveness

import (
	"testing"
	"time"
)

// A planned restart's budget keeps the fencing rule for every pod, and
// moves the node's fence exactly as far as the leader's replacement.
func TestRestartBudgetKeepsTheFencingRule(t *testing.T) {
	b := Default().Budget()
	r := b.Restart(DefaultRestartGrace)
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	if r.EarliestReplacement() != DefaultRestartGrace {
		t.Fatalf("a planned restart is replaced from %v, want the restart grace %v", r.EarliestReplacement(), DefaultRestartGrace)
	}
	if got, want := r.FenceAfter, b.FenceAfter+DefaultRestartGrace-b.NodeGrace; got != want {
		t.Fatalf("fence after %v in a planned restart, want %v", got, want)
	}
	for _, tol := range []time.Duration{0, 10 * time.Second, time.Minute, Forever} {
		if err := r.CheckPod(r.ForPod(tol)); err != nil {
			t.Errorf("toleration %v: %v", tol, err)
		}
	}
	if short := b.Restart(time.Second); short != b {
		t.Fatalf("a restart grace under the node grace changed the budget: %+v", short)
	}
}

func TestRestartGraceOfReadsOnlyAPositiveDuration(t *testing.T) {
	for v, want := range map[string]time.Duration{"30s": 30 * time.Second, "1m": time.Minute, "": 0, "-5s": 0, "soon": 0} {
		if got := RestartGraceOf(map[string]string{AnnRestartGrace: v}); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
	if RestartGraceOf(nil) != 0 {
		t.Error("no annotation is no restart grace")
	}
	if err := ValidRestartGrace(-time.Second); err == nil {
		t.Error("a negative restart grace was accepted")
	}
	if ValidRestartGrace(0) != nil || ValidRestartGrace(time.Second) != nil {
		t.Error("0 and 1s were refused")
	}
}
