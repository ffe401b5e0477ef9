package node

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

// restartedFencer is the fencer of an agent restarted on a node whose saved
// view holds one replica, last in contact away ago; planned is the restart
// grace of the stop before (0: it crashed).
func restartedFencer(t *testing.T, away, planned time.Duration) (*Fencer, *memRuntime, string) {
	t.Helper()
	dir := t.TempDir()
	yes := true
	replica := api.Pod{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default", UID: "web",
		OwnerReferences: []api.OwnerReference{{Kind: api.KindReplicaSet, Name: "rs", Controller: &yes}}}}
	view := filepath.Join(dir, "node", "view.json")
	if err := saveView(view, []api.Pod{replica}, time.Now().Add(-away)); err != nil {
		t.Fatal(err)
	}
	stopFile := filepath.Join(dir, "node", "planned-stop.json")
	if planned > 0 {
		if err := savePlannedStop(stopFile, planned, time.Now().Add(-away)); err != nil {
			t.Fatal(err)
		}
	}
	f := NewFencer(FenceConfig{Liveness: liveness.WithGrace(time.Second), ViewFile: view, PlannedStopFile: stopFile, Log: slog.New(slog.DiscardHandler)}, &fleetAt{})
	rt := newMemRuntime("web")
	f.setRuntime(rt)
	return f, rt, stopFile
}

// Issue 27: an agent restarted on purpose (systemctl restart, an upgrade)
// that was away for longer than FenceAfter keeps its replicas, by the
// restart grace the fleet recorded; a crashed one away as long still
// stops them, since the fleet may replace them after the node grace.
func TestPlannedRestartKeepsReplicasPastFenceAfter(t *testing.T) {
	away := 3 * time.Second // longer than the 1 s grace itself
	planned, plannedRT, _ := restartedFencer(t, away, liveness.DefaultRestartGrace)
	crashed, crashedRT, _ := restartedFencer(t, away, 0)
	want := liveness.WithGrace(time.Second).Budget().Restart(liveness.DefaultRestartGrace).ForPod(0).FenceAfter
	if got := planned.fenceAfter["web"]; got != want {
		t.Fatalf("a replica kept after a planned stop is fenced after %v, want the restart budget's %v", got, want)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { planned.Run(ctx); done <- struct{}{} }()
	go func() { crashed.Run(ctx); done <- struct{}{} }()
	defer func() { cancel(); <-done; <-done }()
	if !eventually(5*time.Second, func() bool { return slices.Contains(crashedRT.killedPods(), "web") }) {
		t.Fatal("an agent restarted after a crash kept a replica past its fence deadline")
	}
	// cutOff is set in the same locked step that picks the pods to stop.
	if !eventually(5*time.Second, func() bool {
		planned.mu.Lock()
		defer planned.mu.Unlock()
		return planned.cutOff
	}) {
		t.Fatal("the planned restart's fence loop never looked")
	}
	planned.mu.Lock()
	stopped := len(planned.stopped)
	planned.mu.Unlock()
	if stopped != 0 || len(plannedRT.killedPods()) != 0 {
		t.Fatalf("an agent restarted on purpose %v after its last contact stopped its replica (restart grace %v)", away, liveness.DefaultRestartGrace)
	}
	select {
	case <-planned.PlannedRestartOver():
		t.Fatal("the planned restart ended before contact returned")
	default:
	}
}

// A planned restart that outlasts its grace is a lost node: the fleet
// replaces its replicas, so the restarted agent stops them at once.
func TestPlannedRestartPastItsGraceFences(t *testing.T) {
	f, rt, _ := restartedFencer(t, time.Minute, liveness.DefaultRestartGrace)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if !eventually(5*time.Second, func() bool { return slices.Contains(rt.killedPods(), "web") }) {
		t.Fatal("an agent back a minute after a planned stop with a 30 s grace kept its replica")
	}
}

// Back in contact, the agent fences by the node grace again, forgets the
// planned stop, and lets the fleet's restart mark go (PlannedRestartOver),
// so that a later crash fails over as fast as ever.
func TestContactEndsThePlannedRestart(t *testing.T) {
	f, _, stopFile := restartedFencer(t, 3*time.Second, liveness.DefaultRestartGrace)
	v3 := &Assignments{Index: 3, Pods: f.view}
	f.fetched(v3)
	if !f.reconcileAllowed(v3) {
		t.Fatal("a fresh read was not trusted")
	}
	select {
	case <-f.PlannedRestartOver():
	default:
		t.Fatal("contact returned but the planned restart did not end")
	}
	if got := f.fenceAfter["web"]; got != f.budget.FenceAfter {
		t.Fatalf("in contact again the replica is fenced after %v, want the node grace's %v", got, f.budget.FenceAfter)
	}
	if _, err := os.Stat(stopFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the planned stop outlived the restart: %v", err)
	}

	crashed, _, _ := restartedFencer(t, 3*time.Second, 0)
	select {
	case <-crashed.PlannedRestartOver():
	default:
		t.Fatal("an agent that did not start from a planned stop holds the fleet's mark")
	}
}
