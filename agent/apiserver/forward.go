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
func (a *Server) viaServer(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.isServer() {
			if linearizable(r) { // readindex.go
				if err := a.readBarrier(r.Context()); err != nil {
					writeReadUnavailable(w, err)
					return
				}
			}
			h(w, r)
			return
		}
		a.forwardTo(w, r, a.anyServerAPI())
	}
}

// viaLeader runs writes on the Raft leader: any other agent forwards them.
func (a *Server) viaLeader(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.isServer() && a.raft().IsLeader() {
			h(w, r)
			return
		}
		target := a.leaderAPI()
		if target == "" && !a.isServer() {
			target = a.anyServerAPI()
		}
		a.forwardWrite(w, r, target)
	}
}

// forwardWrite reads and checks a write's body before it passes it on, so
// that a body cut short of its Content-Length or over the cap gets the same
// 400 or 413 from whichever agent is asked (docs/bad-input.md), not a 502
// from a proxy that failed half-way. Writes are capped at maxBodyBytes, so
// holding one in memory costs no more than the leader's own decode.
func (a *Server) forwardWrite(w http.ResponseWriter, r *http.Request, target string) {
	if r.Body != nil && r.Body != http.NoBody {
		body, err := readBody(r)
		if err != nil {
			writeError(w, a.log, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.TransferEncoding = nil
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	a.forwardWithin(w, r, target, leaderAnswerWait)
}

// leaderAnswerWait bounds how long a forwarded write waits for the
// leader's first byte. A leader that loses its quorum steps down and fails
// the write within a second, so only a leader cut off from this agent
// (packets dropped, no reset) ever takes this long; without the bound the
// caller waited until its own client gave up.
const leaderAnswerWait = 15 * time.Second

func (a *Server) forwardTo(w http.ResponseWriter, r *http.Request, target string) {
	a.forwardWithin(w, r, target, 0)
}

// forwardWithin proxies r to target; with answerWait > 0 it gives up when
// no response header came back in that time and answers 504 Timeout, as
// the Kubernetes API server does: the write may or may not have been
// applied, which the caller learns by reading.
func (a *Server) forwardWithin(w http.ResponseWriter, r *http.Request, target string, answerWait time.Duration) {
	var answered, timedOut func() bool
	if answerWait > 0 {
		parent := r.Context()
		ctx, cancel := context.WithCancel(parent)
		defer cancel()
		timer := time.AfterFunc(answerWait, cancel)
		answered = timer.Stop
		timedOut = func() bool { return ctx.Err() != nil && parent.Err() == nil }
		r = r.WithContext(ctx)
	}
	hops, _ := strconv.Atoi(r.Header.Get(forwardedHeader))
	if target == "" || hops >= maxHops {
		writeJSON(w, http.StatusServiceUnavailable, api.Status{
			TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Failure",
			Reason: "ServiceUnavailable", Code: http.StatusServiceUnavailable,
			Message: "no Raft leader is known to this agent yet; retry in a moment",
		})
		return
	}
	u := &url.URL{Scheme: "http", Host: target}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.Transport = a.transport
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		// The body cap (withMiddleware) trips while the proxy streams the
		// body on: that is the client's too-large request, not a dead
		// agent, and a retry would fail the same way.
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, a.log, &badRequest{reason: "RequestEntityTooLarge", code: http.StatusRequestEntityTooLarge,
				err: fmt.Errorf("request body larger than %d bytes", maxBodyBytes)})
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
		a.log.Warn("forward request", "to", target, "err", err)
		writeJSON(w, http.StatusBadGateway, api.Status{
			TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Failure",
			Reason: "ServiceUnavailable", Code: http.StatusBadGateway, Message: "the agent this request was forwarded to did not answer; retry",
		})
	}
	proxy.ModifyResponse = func(resp *http.Response) error {
		if answered != nil && !answered() {
			return context.Canceled // too late: the wait ran out as the answer came
		}
		idx, err := strconv.ParseUint(resp.Header.Get(indexHeader), 10, 64)
		if err == nil && idx > 0 && a.fsm() != nil {
			a.waitApplied(resp.Request.Context(), idx)
		}
		return nil
	}
	r.Header.Set(forwardedHeader, strconv.Itoa(hops+1))
	proxy.ServeHTTP(w, r)
}

// leaderName is the node name of the Raft leader, "" when none is known.
func (a *Server) leaderName() string {
	if !a.isServer() {
		return ""
	}
	id, _ := a.raft().Leader()
	return id
}

// leaderAPI is the API address of the Raft leader, from gossip.
func (a *Server) leaderAPI() string {
	name := a.leaderName()
	if name == "" {
		return ""
	}
	return a.memberAPI(name)
}

func (a *Server) memberAPI(name string) string {
	for _, m := range a.members() {
		if m.Name == name && m.Alive {
			return m.API
		}
	}
	return ""
}

// anyServerAPI picks a live server; the first by name, so that a client's
// requests keep going to the same one.
func (a *Server) anyServerAPI() string {
	for _, m := range a.members() {
		if m.Alive && m.Server {
			return m.API
		}
	}
	return ""
}

// waitApplied waits, briefly, until the local state has applied index.
func (a *Server) waitApplied(ctx context.Context, index uint64) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for a.fsm().Index() < index {
		if _, err := a.fsm().WaitIndex(ctx, a.fsm().Index()); err != nil {
			a.log.Debug("state did not catch up with a forwarded write", "index", index, "err", err)
			return
		}
	}
}
