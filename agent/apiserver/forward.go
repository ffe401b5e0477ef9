package apiserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// forwardedHeader counts the agents a request passed through: a client
// hands it to a server, a follower to the leader, and no further, so that
// a request never loops while the fleet elects a leader.
const forwardedHeader = "X-Shoal-Hops"

const maxHops = 2

// indexHeader carries the Raft index of a write's entry back through the
// forwarding agents, so each waits until its own state has it: whoever
// reads from the agent they wrote to sees their write.
const indexHeader = "X-Shoal-Index"

// viaServer serves reads from the local state on servers; clients hold no
// state and pass the request to a live server.
func (srv *Server) viaServer(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if srv.isServer() {
			if linearizable(r) { // readindex.go
				if err := srv.readBarrier(r.Context()); err != nil {
					writeReadUnavailable(w, err)
					return
				}
			}
			h(w, r)
			return
		}
		srv.forwardTo(w, r, srv.anyServerAPI())
	}
}

// viaLeader runs writes on the Raft leader: any other agent forwards them.
func (srv *Server) viaLeader(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if srv.isServer() && srv.raft().IsLeader() {
			if err := srv.leaderCurrent(r.Context()); err != nil { // leader_current.go
				writeNotWritten(w, "this agent leads but its state is not current yet: "+err.Error())
				return
			}
			h(w, r)
			return
		}
		target := srv.leaderAPI()
		if target == "" && !srv.isServer() {
			target = srv.anyServerAPI()
		}
		srv.forwardWrite(w, r, target)
	}
}

// forwardWrite reads and checks a write's body before it passes it on, so
// that a body cut short of its Content-Length or over the cap gets the same
// 400 or 413 from whichever agent is asked (docs/bad-input.md), not a 502
// from a proxy that failed half-way. Writes are capped at maxBodyBytes, so
// holding one in memory costs no more than the leader's own decode.
func (srv *Server) forwardWrite(w http.ResponseWriter, r *http.Request, target string) {
	if r.Body != nil && r.Body != http.NoBody {
		body, err := readBody(r)
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.TransferEncoding = nil
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	srv.forwardWithin(w, r, target, leaderAnswerWait)
}

// leaderAnswerWait bounds how long a forwarded write waits for the
// leader's first byte. A leader that loses its quorum steps down and fails
// the write within a second, so only a leader cut off from this agent
// (packets dropped, no reset) ever takes this long; without the bound the
// caller waited until its own client gave up.
const leaderAnswerWait = 15 * time.Second

func (srv *Server) forwardTo(w http.ResponseWriter, r *http.Request, target string) {
	srv.forwardWithin(w, r, target, 0)
}

// forwardWithin proxies r to target; with answerWait > 0 it gives up when
// no response header came back in that time and answers 504 Timeout, as
// the Kubernetes API server does: the write may or may not have been
// applied, which the caller learns by reading.
func (srv *Server) forwardWithin(w http.ResponseWriter, r *http.Request, target string, answerWait time.Duration) {
	hops, _ := strconv.Atoi(r.Header.Get(forwardedHeader))
	if target == "" || hops >= maxHops {
		// Passed on to no one: whatever the request was, nothing of it
		// was written (a leader runs a write rather than forward it).
		writeNotWritten(w, "no Raft leader is known to this agent yet")
		return
	}
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	defer srv.inflight.add(target, cancel)() // forward_cut.go
	r = r.WithContext(ctx)
	var answered, timedOut func() bool
	if answerWait > 0 {
		timer := time.AfterFunc(answerWait, func() { cancel(errNoAnswerInTime) })
		answered = timer.Stop
		timedOut = func() bool { return errors.Is(context.Cause(ctx), errNoAnswerInTime) }
	}
	u := &url.URL{Scheme: "http", Host: target}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.Transport = srv.transport
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		// The body cap (withMiddleware) trips while the proxy streams the
		// body on: that is the client's too-large request, not a dead
		// agent, and a retry would fail the same way.
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, srv.log, &badRequest{reason: "RequestEntityTooLarge", code: http.StatusRequestEntityTooLarge,
				err: fmt.Errorf("request body larger than %d bytes", maxBodyBytes)})
			return
		}
		if errors.Is(err, errBodyTimeout) {
			writeError(w, srv.log, invalid(err))
			return
		}
		if timedOut != nil && timedOut() {
			writeJSON(w, http.StatusGatewayTimeout, api.Status{
				TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Failure",
				Reason: "Timeout", Code: http.StatusGatewayTimeout,
				Message: fmt.Sprintf("the leader %s did not answer within %s; the write may or may not have been applied: read it back before retrying", target, answerWait),
			})
			return
		}
		msg := "the agent this request was forwarded to did not answer; retry"
		if errors.Is(context.Cause(ctx), errTargetGone) {
			msg = "gossip declared the agent this request was forwarded to failed; retry"
		} else {
			srv.log.Warn("forward request", "to", target, "err", err)
		}
		writeJSON(w, http.StatusBadGateway, api.Status{
			TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Failure",
			Reason: "ServiceUnavailable", Code: http.StatusBadGateway, Message: msg,
		})
	}
	proxy.ModifyResponse = func(resp *http.Response) error {
		if answered != nil && !answered() {
			return context.Canceled // too late: the wait ran out as the answer came
		}
		idx, err := strconv.ParseUint(resp.Header.Get(indexHeader), 10, 64)
		if err == nil && idx > 0 && srv.fsm() != nil {
			srv.waitApplied(resp.Request.Context(), idx)
		}
		return nil
	}
	r.Header.Set(forwardedHeader, strconv.Itoa(hops+1))
	proxy.ServeHTTP(w, r)
}

// leaderName is the node name of the Raft leader, "" when none is known.
func (srv *Server) leaderName() string {
	if !srv.isServer() {
		return ""
	}
	id, _ := srv.raft().Leader()
	return id
}

// leaderAPI is the API address of the Raft leader, from gossip.
func (srv *Server) leaderAPI() string {
	name := srv.leaderName()
	if name == "" {
		return ""
	}
	return srv.memberAPI(name)
}

func (srv *Server) memberAPI(name string) string {
	for _, m := range srv.members() {
		if m.Name == name && m.Alive {
			return m.API
		}
	}
	return ""
}

// anyServerAPI picks a live server: this client's own (forward_spread.go).
func (srv *Server) anyServerAPI() string { return srv.homeServerAPI() }

// waitApplied waits, briefly, until the local state has applied index.
func (srv *Server) waitApplied(ctx context.Context, index uint64) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for srv.fsm().Index() < index {
		if _, err := srv.fsm().WaitIndex(ctx, srv.fsm().Index()); err != nil {
			srv.log.Debug("state did not catch up with a forwarded write", "index", index, "err", err)
			return
		}
	}
}
