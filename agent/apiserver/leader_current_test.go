package apiserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// catchingUpLog is a seat's Log whose state machine is held back until
// the first Barrier: what a new leader's state is until the entries of
// the term it inherited are applied. A handler that reads the state
// without a barrier sees it as it was.
type catchingUpLog struct {
	*consensus.Raft
	gate *consensus.Gate
}

func (l catchingUpLog) Barrier(ctx context.Context) error {
	l.gate.Release()
	return l.Raft.Barrier(ctx)
}

// A leader answers a write only from a state that holds everything its
// term inherited. Found by the chaos history checker (seed 68,
// kill-two-seats): after the leader and a follower were cut off and
// restarted from disk, a delete through the new leader answered 404 for a
// Secret an acknowledged create had made and every later read returned,
// because the delete looked the Secret up in a state that had not yet
// replayed the log.
func TestNewLeaderAnswersWritesFromACurrentState(t *testing.T) {
	c := consensus.NewTestCluster(t, 3, consensus.WithGates())
	old := c.Leader()
	next := c.Followers(old)[0]

	next.Gate.Hold()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := api.Secret{ObjectMeta: api.ObjectMeta{Name: "lin-0", Namespace: "default"}, Data: map[string][]byte{"v": []byte("c1-278")}}
	if _, err := old.Raft.Apply(ctx, consensus.ApplySecret{Secret: s, Create: true, UID: "uid-lin-0", Time: time.Now().UTC()}); err != nil {
		t.Fatalf("create: %v", err)
	}
	<-next.Gate.Blocked()
	if err := old.Raft.TransferLeadership(ctx, next.ID); err != nil {
		t.Fatal(err)
	}
	if got := c.Leader(); got != next {
		t.Fatalf("%s leads, want %s", got.ID, next.ID)
	}
	if _, err := next.FSM.Secret("default", "lin-0"); !consensus.IsNotFound(err) {
		t.Fatalf("the new leader's state already holds the Secret (%v): the test no longer makes a lagging leader", err)
	}

	a := testServer(next.ID, fixedSeat{store: next.FSM, log: catchingUpLog{Raft: next.Raft, gate: next.Gate}}, nil)
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	code, st, body := request(t, "DELETE", srv.URL+"/api/v1/namespaces/default/secrets/lin-0", "", "")
	if code != http.StatusOK {
		t.Fatalf("delete through the new leader: HTTP %d %s (%s), want 200: the Secret was created and acknowledged", code, st.Reason, body)
	}
	if _, err := next.FSM.Secret("default", "lin-0"); !consensus.IsNotFound(err) {
		t.Fatalf("after the delete: %v, want not found", err)
	}
}

// A leader that cannot confirm it still leads does not answer "not found"
// from its own state: a newer leader may have created the object since.
// It refuses with 503, and says that nothing was written.
func TestCutOffLeaderDoesNotAnswerNotFound(t *testing.T) {
	c := consensus.NewTestCluster(t, 3)
	leader := c.Leader()
	a := testServer(leader.ID, fixedSeat{store: leader.FSM, log: leader.Raft}, nil)
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	// A first write passes the new term's barrier while the quorum is there.
	if code, _, body := request(t, "DELETE", srv.URL+"/api/v1/namespaces/default/secrets/nobody", "", ""); code != http.StatusNotFound {
		t.Fatalf("delete of a missing Secret with a quorum: HTTP %d %s, want 404", code, body)
	}
	c.Disconnect(leader)
	// hashicorp/raft lets a heartbeat already on its way confirm one more
	// VerifyLeader (readindex_test.go); every later one must fail.
	for i := 0; ; i++ {
		resp := deleteAt(t, srv.URL+"/api/v1/namespaces/default/secrets/nobody")
		if resp.StatusCode == http.StatusServiceUnavailable {
			if resp.Header.Get(NotWrittenHeader) != "true" {
				t.Fatalf("503 without %s: true", NotWrittenHeader)
			}
			break
		}
		if resp.StatusCode != http.StatusNotFound || i >= 2*len(c.Followers(leader)) {
			t.Fatalf("delete %d through a leader cut off from its quorum: HTTP %d, want 503", i+1, resp.StatusCode)
		}
	}
}

// deleteAt sends a DELETE to url and answers the response, its body
// closed: these tests read the code and the headers.
func deleteAt(t *testing.T, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
