package agent

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

// Issue 27: an agent stopped on purpose records its restart grace on its
// node in Raft, and only then the planned stop in its data dir; the mark
// goes again through the agent's own API once the planned restart is over.
func TestPlannedStopIsRecordedInRaftThenOnDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three agents")
	}
	s, base := startSim(t, 3, "127.79.4.1")
	stopping, staying := s.Nodes()[2], s.Nodes()[1]
	a := stopping.a.Load()
	a.cfg.RestartGrace = 45 * time.Second // read when it stops, after this
	stopFile := a.dataPath("node", "planned-stop.json")
	if err := stopping.Stop(); err != nil {
		t.Fatal(err)
	}
	var n api.Node
	if err := getJSON(base+"/api/v1/nodes/"+stopping.Name, &n); err != nil {
		t.Fatal(err)
	}
	if got := n.ObjectMeta.Annotations[liveness.AnnRestartGrace]; got != "45s" {
		t.Fatalf("node %s's restart mark after a stop on purpose: %q, want 45s", stopping.Name, got)
	}
	if _, err := os.Stat(stopFile); err != nil {
		t.Fatalf("the planned stop is not on disk: %v", err)
	}

	// The mark goes once the fencer keeps nothing by a planned restart
	// (at once for an agent that did not start from one).
	b := staying.a.Load()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.patchRestartMark(ctx, "30s"); err != nil {
		t.Fatal(err)
	}
	if marked, err := b.hasRestartMark(ctx); err != nil || !marked {
		t.Fatalf("the mark written through the agent's own API reads back as %v (%v)", marked, err)
	}
	b.clearRestartMark(ctx)
	var back api.Node
	if err := getJSON(base+"/api/v1/nodes/"+staying.Name, &back); err != nil {
		t.Fatal(err)
	}
	if got, ok := back.ObjectMeta.Annotations[liveness.AnnRestartGrace]; ok {
		t.Fatalf("node %s keeps its restart mark %q after the planned restart ended", staying.Name, got)
	}
}

// Only a negative restart grace is refused, naming the flag: 0 turns
// planned restarts off, and one no longer than the node grace changes
// nothing, so a fleet with a long node grace starts with the default.
func TestRestartGraceRefusesOnlyANegativeOne(t *testing.T) {
	err := (&Config{RestartGrace: -time.Second}).validRestartGrace()
	if err == nil || !strings.Contains(err.Error(), "restart-grace: restart grace -1s: must be 0 (off) or more") {
		t.Fatalf("a negative restart grace: %v", err)
	}
	for _, ok := range []time.Duration{0, time.Second, DefaultRestartGrace} {
		if err := (&Config{RestartGrace: ok, NodeGrace: time.Minute}).validRestartGrace(); err != nil {
			t.Errorf("restart grace %v: %v", ok, err)
		}
	}
}
