package apiserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/consensus"
)

// leaderReads asks a leader agent in the same process for its read index,
// as a follower does over the API.
type leaderReads struct{ leader *Server }

func (l leaderReads) ReadIndex(ctx context.Context) (uint64, error) {
	return l.leader.leaderReadIndex(ctx)
}

// A follower whose state trails the leader's does not answer a read until
// it has applied what the leader had acknowledged (found by the chaos
// history checker: a list through a healthy follower 21 ms after an
// acknowledged update returned the old value).
func TestFollowerReadWaitsForTheLeadersIndex(t *testing.T) {
	c := consensus.NewTestCluster(t, 3, consensus.WithGates())
	leader := c.Leader()
	follower := c.Followers(leader)[0]
	la := testServer(leader.ID, fixedSeat{store: leader.FSM, log: leader.Raft}, nil)
	fa := testServer(follower.ID, fixedSeat{store: follower.FSM, log: follower.Raft}, leaderReads{la})

	follower.Gate.Hold()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := leader.Raft.Apply(ctx, consensus.DeletePod{Namespace: "default", Name: "nobody", UID: "u"}); !consensus.IsNotFound(err) {
		t.Fatalf("apply: %v, want not found", err)
	}
	acked := leader.FSM.Index()
	<-follower.Gate.Blocked()

	short, cancelShort := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancelShort()
	if err := fa.readBarrier(short); err == nil {
		t.Fatalf("a read on the follower was let through with its state at %d, before the acknowledged %d", follower.FSM.Index(), acked)
	}
	follower.Gate.Release()
	if err := fa.readBarrier(ctx); err != nil {
		t.Fatal(err)
	}
	if got := follower.FSM.Index(); got < acked {
		t.Fatalf("read served at %d, before the acknowledged %d", got, acked)
	}

	// A leader cut off from the others stops confirming read indices.
	// hashicorp/raft counts a heartbeat (or append) already on its way to
	// a follower when the cut came, so up to two per follower may still
	// confirm one; every later one must fail.
	c.Disconnect(leader)
	inFlight := 2 * len(c.Followers(leader))
	for i := 0; ; i++ {
		cut, cancelCut := context.WithTimeout(context.Background(), 3*time.Second)
		_, err := la.leaderReadIndex(cut)
		cancelCut()
		if err != nil {
			break
		}
		if i >= inFlight {
			t.Fatalf("a leader cut off from its quorum handed out %d read indices", i+1)
		}
	}
}

type failingReads struct{}

func (failingReads) ReadIndex(context.Context) (uint64, error) {
	return 0, errors.New("no leader")
}

// Without a read index a server refuses the read with 503 and Retry-After
// (fail closed) rather than answer from a state that may be stale; its own
// /shoal/ endpoints do not ask for one.
func TestReadWithoutAReadIndexIsRefused(t *testing.T) {
	c := consensus.NewTestCluster(t, 1)
	s := c.Leader()
	a := testServer("", fixedSeat{store: s.FSM, log: s.Raft}, failingReads{})
	ok := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }
	srv := httptest.NewServer(a.viaServer(ok))
	defer srv.Close()
	for path, want := range map[string]int{
		"/api/v1/pods":                   http.StatusServiceUnavailable,
		"/api/v1/pods?resourceVersion=0": http.StatusOK, // "any version": stale allowed, as in Kubernetes
		"/shoal/v1/raft":                 http.StatusOK,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: HTTP %d %s, want %d", path, resp.StatusCode, body, want)
		}
		if want == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
			t.Errorf("GET %s: no Retry-After", path)
		}
	}
}
