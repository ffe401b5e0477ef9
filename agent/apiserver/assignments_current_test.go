package apiserver

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// catchingUp is a server whose state check waits for the state to apply
// what was committed, as consensus.Raft.CaughtUp does after a restart:
// here the state learns of node n3 during the check.
type catchingUp struct {
	once    sync.Once
	apply   func(consensus.Command) uint64
	applied uint64
}

func (c *catchingUp) StateCurrent(ctx context.Context) bool {
	c.once.Do(func() {
		c.applied = c.apply(consensus.RegisterNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: "n3"}}, Time: time.Now()})
	})
	return true
}

// A server restarted from disk answered its node's first assignments
// query with a view it had read before the state check, which waited for
// the state to catch up: a view of the state as it was before the
// restart's replay, with pods deleted long before (seen in `shoal lab
// chaos`, seed 2: a node that restarted while its seat caught up kept a
// pod deleted 90 s earlier, and wired its IP, which another pod held).
// The view must be the state's once it is current.
func TestAssignmentsAnswerTheStateAsItIsOnceCurrent(t *testing.T) {
	c := consensus.NewTestCluster(t, 1)
	s := c.Leader()
	apply := applyAt(t, s)
	for _, n := range []string{"n1", "n2"} {
		apply(consensus.RegisterNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: n}}, Time: time.Now()})
	}
	current := &catchingUp{apply: apply}
	srv := httptest.NewServer(New(Config{Name: s.ID, Log: slog.New(slog.DiscardHandler)},
		Deps{Seats: fixedSeat{store: s.FSM, log: s.Raft}, Current: current}).Handler())
	t.Cleanup(srv.Close)

	v := getView(t, srv.URL+"/shoal/v1/nodes/n1/assignments?index=0")
	if v.Index < current.applied || len(v.Nodes) != 3 {
		t.Fatalf("answered the view at index %d with %d nodes; the state was current at index %d with 3", v.Index, len(v.Nodes), current.applied)
	}
}
