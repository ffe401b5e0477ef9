package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// Reads are linearizable, as Kubernetes' are by default (etcd quorum
// reads): a GET answered by any server reflects every write acknowledged
// before it began. A follower's own state may trail the leader's by a few
// milliseconds, so it first asks the leader for a read index, the index
// its state holds once the leader has confirmed with a quorum that it
// still leads (Raft's ReadIndex, §6.4 of the Raft thesis), and answers
// only when its own state has applied that index. Found by the chaos
// history checker: an update acknowledged by the leader, then a list
// through a healthy follower 21 ms later that returned the old value.

// readIndexWait bounds how long a read waits for the leader's read index
// and for the local state to reach it: an election takes about a second.
const readIndexWait = 5 * time.Second

// linearizable reports whether a request reads state that must be
// current. shoal's own endpoints under /shoal/ are not: the node
// reconciler's assignment query is fenced on its own (agent/fencing.go)
// and the Raft endpoint is how a read index is asked for. Neither is a
// read with resourceVersion=0, which in Kubernetes means "any version
// will do" (client-go's reflectors list that way and the API server
// answers from its cache): it is served from this server's state as is.
func linearizable(r *http.Request) bool {
	return r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/shoal/") &&
		r.URL.Query().Get("resourceVersion") != "0"
}

// readBarrier waits until this server's state holds every write
// acknowledged before the call. It fails closed: without a leader that
// can confirm itself, the read is refused, never answered from a state
// that may be stale.
func (srv *Server) readBarrier(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readIndexWait)
	defer cancel()
	var idx uint64
	var err error
	if srv.reads != nil {
		idx, err = srv.reads.ReadIndex(ctx)
	} else {
		idx, err = srv.readIndex(ctx)
	}
	if err != nil {
		return err
	}
	for srv.fsm().Index() < idx {
		if _, err := srv.fsm().WaitIndex(ctx, srv.fsm().Index()); err != nil {
			return fmt.Errorf("this server's state did not reach the read index %d: %w", idx, err)
		}
	}
	return nil
}

// readIndex is the leader's state index once it has confirmed its
// leadership: on the leader itself, or asked of it over the API.
func (srv *Server) readIndex(ctx context.Context) (uint64, error) {
	seat := srv.raft()
	if seat.IsLeader() {
		return srv.leaderReadIndex(ctx)
	}
	target := srv.leaderAPI()
	if target == "" {
		return 0, errNoLeaderForRead
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+target+"/shoal/v1/readindex", nil)
	if err != nil {
		return 0, err
	}
	resp, err := srv.internalClient(readIndexWait).Do(req)
	if err != nil {
		return 0, fmt.Errorf("ask the leader %s for a read index: %w", target, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("ask the leader %s for a read index: HTTP %d", target, resp.StatusCode)
	}
	var v struct {
		Index uint64 `json:"index"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return 0, fmt.Errorf("read index from %s: %w", target, err)
	}
	return v.Index, nil
}

var errNoLeaderForRead = errors.New("no Raft leader is known to this agent, and a read must be confirmed by one; retry in a moment")

// leaderReadIndex is the leader's side: its state already holds every
// write it acknowledged, and, once a barrier has passed in its term,
// everything an earlier leader acknowledged; VerifyLeader makes sure no
// newer leader has acknowledged writes it has not seen.
func (srv *Server) leaderReadIndex(ctx context.Context) (uint64, error) {
	seat := srv.raft()
	idx := srv.fsm().Index()
	if !seat.LeaderReady() {
		if err := seat.Barrier(ctx); err != nil {
			return 0, fmt.Errorf("new leader not caught up yet: %w", err)
		}
		idx = srv.fsm().Index()
	}
	if err := seat.VerifyLeader(ctx); err != nil {
		return 0, err
	}
	return idx, nil
}

// serveReadIndex answers a follower's read index request (leader only).
func (srv *Server) serveReadIndex(w http.ResponseWriter, r *http.Request) {
	if !srv.isServer() || !srv.raft().IsLeader() {
		writeReadUnavailable(w, errors.New("this agent is not the Raft leader"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readIndexWait)
	defer cancel()
	idx, err := srv.leaderReadIndex(ctx)
	if err != nil {
		writeReadUnavailable(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Index uint64 `json:"index"`
	}{idx})
}

// writeReadUnavailable answers a read that could not be confirmed current
// with 503 and a Retry-After, which kubectl and client-go retry.
func writeReadUnavailable(w http.ResponseWriter, err error) {
	writeRetryLater(w, http.StatusServiceUnavailable, "ServiceUnavailable", "cannot confirm this read is current: "+err.Error())
}

// writeRetryLater answers code (503 or 429) with a Retry-After of a
// second, which kubectl and client-go honour, and a Status saying why.
func writeRetryLater(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Retry-After", "1")
	writeJSON(w, code, api.Status{
		TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Failure",
		Reason: api.StatusReason(reason), Code: int32(code), Message: msg,
	})
}
