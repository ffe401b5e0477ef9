package agent

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestTuneGCForAgentKeepsTheOperatorsGOGC: without GOGC an agent process
// collects at agentGCPercent; with it, at what the operator chose.
func TestTuneGCForAgentKeepsTheOperatorsGOGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })

	if v, ok := os.LookupEnv("GOGC"); ok {
		os.Unsetenv("GOGC")
		t.Cleanup(func() { os.Setenv("GOGC", v) })
	}
	TuneGCForAgent()
	if got := debug.SetGCPercent(100); got != agentGCPercent {
		t.Errorf("without GOGC: GC percent %d, want %d", got, agentGCPercent)
	}

	t.Setenv("GOGC", "100")
	TuneGCForAgent()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC=100: GC percent %d, want 100", got)
	}
}
