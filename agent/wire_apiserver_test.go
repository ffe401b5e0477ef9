package agent

import (
	"testing"

	"github.com/shoal-dev/shoal/consensus"
)

// The API tells a client (no seat) and a node without containerd by a nil
// interface; a typed nil would pass that check and panic on first use.
func TestAPIAdaptersAnswerUntypedNilsBeforeTheirPartsExist(t *testing.T) {
	a := &Agent{}
	if st, log := (agentSeats{a}).Seat(); st != nil || log != nil {
		t.Errorf("seat of a client = %v, %v; want nil, nil", st, log)
	}
	if rt := (agentRuntime{a}).Runtime(); rt != nil {
		t.Errorf("runtime before containerd answered = %#v, want nil", rt)
	}
	if ms := (agentMembers{a}).Members(); ms != nil {
		t.Errorf("members before gossip started = %v, want none", ms)
	}
	fsm := consensus.NewFSM()
	a.role.Store(&serverRole{fsm: fsm, raft: nil})
	if st, _ := (agentSeats{a}).Seat(); st == nil || st.Index() != fsm.Index() {
		t.Errorf("seat of a server = %v, want its state machine", st)
	}
}
