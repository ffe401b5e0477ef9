package apiserver

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// The query writes the nodes' part as the routes encoded it once; what a
// node decodes is the view itself.
func TestAssignmentsAnswerIsTheViewEncoded(t *testing.T) {
	s := consensus.NewTestCluster(t, 1).Leader()
	apply := applyAt(t, s)
	for _, n := range []string{"n1", "n2", "n3"} {
		apply(consensus.RegisterNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: n},
			Status: api.NodeStatus{Addresses: []api.NodeAddress{{Type: "InternalIP", Address: "10.250.0.9"}}}}, Time: time.Now()})
	}
	srv := testServer(s.ID, fixedSeat{store: s.FSM, log: s.Raft}, nil)
	b, err := json.Marshal(srv.assignmentsAnswerFor("n1"))
	if err != nil {
		t.Fatal(err)
	}
	var got AssignmentsView
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := srv.assignmentsView("n1")
	// Decoded, an empty list of pods is an empty list, as in the view.
	if !reflect.DeepEqual(got, want) {
		t.Errorf("answer decodes to\n%+v\nwant the view\n%+v", got, want)
	}
	if len(got.Nodes) != 3 || got.Nodes[2].Status.Addresses[0].Address != "10.250.0.9" {
		t.Errorf("routes %+v", got.Nodes)
	}
}

// A burst of joins is gathered longer in a larger fleet, from a second up
// to ten.
func TestRoutesGatherGrowsWithTheFleet(t *testing.T) {
	for _, c := range []struct {
		nodes int
		want  time.Duration
	}{{0, time.Second}, {5, time.Second}, {100, time.Second}, {300, 3 * time.Second}, {1000, 10 * time.Second}, {5000, 10 * time.Second}} {
		t.Run(fmt.Sprint(c.nodes), func(t *testing.T) {
			if got := routesGather(c.nodes); got != c.want {
				t.Errorf("routesGather(%d) = %v, want %v", c.nodes, got, c.want)
			}
		})
	}
}
