package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

func getView(t *testing.T, url string) AssignmentsView {
	t.Helper()
	code, b := do(t, "GET", url, "", "", "")
	if code != http.StatusOK {
		t.Errorf("GET %s: %d %s", url, code, b)
		return AssignmentsView{}
	}
	var v AssignmentsView
	if err := json.Unmarshal(b, &v); err != nil {
		t.Error(err)
	}
	return v
}

// A node that names the view it holds is not woken by changes that leave
// it as it was (another node's labels), only by one that changes it (a
// new node to route to), or when its wait is up; a node that names none
// is woken by any change. The view carries no Node field beyond the
// routes.
func TestAssignmentsViewWaitsPastChangesElsewhere(t *testing.T) {
	c := consensus.NewTestCluster(t, 1)
	s := c.Leader()
	apply := applyAt(t, s)
	for _, n := range []string{"n1", "n2"} {
		apply(consensus.RegisterNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: n}}, Time: time.Now()})
	}
	srv := httptest.NewServer(testServer(s.ID, fixedSeat{store: s.FSM, log: s.Raft}, nil).Handler())
	t.Cleanup(srv.Close)
	base := srv.URL + "/shoal/v1/nodes/n1/assignments"

	first := getView(t, base+"?index=0")
	if first.View == "" || len(first.Nodes) != 2 {
		t.Fatalf("first view: %+v", first)
	}
	for _, n := range first.Nodes {
		if len(n.ObjectMeta.Labels) != 0 || len(n.Status.Conditions) != 0 {
			t.Fatalf("node %s carries more than its route: %+v", n.ObjectMeta.Name, n)
		}
	}
	// Resync: with nothing changed, the held query answers when its wait is up.
	if v := getView(t, fmt.Sprintf("%s?index=%d&view=%s&wait=200ms", base, first.Index, first.View)); v.View != first.View {
		t.Fatalf("after the wait: view %s, want %s", v.View, first.View)
	}

	held := make(chan AssignmentsView, 1)
	go func() {
		held <- getView(t, fmt.Sprintf("%s?index=%d&view=%s&wait=20s", base, first.Index, first.View))
	}()
	labelled := apply(consensus.UpdateNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: "n2", Labels: map[string]string{"disk": "ssd"}}}, Time: time.Now()})
	// The plain query wakes on the label change.
	if v := getView(t, fmt.Sprintf("%s?index=%d&wait=20s", base, first.Index)); v.Index < labelled || v.View != first.View {
		t.Fatalf("plain query: index %d (label at %d), view %s (want %s)", v.Index, labelled, v.View, first.View)
	}
	joined := apply(consensus.RegisterNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: "n3"}}, Time: time.Now()})
	v := <-held
	if v.Index < joined || v.View == first.View || len(v.Nodes) != 3 {
		t.Fatalf("held query answered at index %d (label at %d, n3 at %d), view %s, %d nodes: it should wait for n3", v.Index, labelled, joined, v.View, len(v.Nodes))
	}
}

// applyAt writes cmd through s's Raft and answers the index it took,
// failing the test on an error.
func applyAt(t *testing.T, s *consensus.TestServer) func(cmd consensus.Command) uint64 {
	return func(cmd consensus.Command) uint64 {
		t.Helper()
		res, err := s.Raft.Apply(context.Background(), cmd)
		if err != nil {
			t.Fatalf("%s: %v", cmd.Type(), err)
		}
		return res.Index
	}
}
