package agent

import (
	"os"
	"runtime/debug"
)

// agentGCPercent is the garbage collector's target for an agent process:
// the heap may grow by half its live size between collections, not by
// all of it (Go's default, GOGC=100). An idle agent's heap is mostly what
// it keeps (the state, the API's tables, Raft's and gossip's buffers,
// 5-8 MB), and the default let the heap, and so the resident memory, grow
// by as much again before each collection. The price is twice as many
// collections for the same allocations; since gossip's packets are no
// longer read into 64 KiB buffers (membership_transport.go) an idle agent
// allocates a fifth of what it did, so it still collects less often than
// before (docs/performance.md, "Seat memory").
const agentGCPercent = 50

// TuneGCForAgent sets the collector's target for a process that runs one
// agent, unless the operator chose one with GOGC. Call it from main: the
// target is the whole process's.
func TuneGCForAgent() {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	debug.SetGCPercent(agentGCPercent)
}
