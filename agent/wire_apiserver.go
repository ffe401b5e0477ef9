package agent

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/shoal-dev/shoal/agent/apiserver"
)

// apiServer builds this agent's API (package apiserver) over the agent's
// parts, with the endpoints the agent itself owns.
func (a *Agent) apiServer() *apiserver.Server {
	return apiserver.New(apiserver.Config{
		Name:        a.cfg.Name,
		Version:     Version,
		Token:       a.sec.token,
		DebugPprof:  a.cfg.DebugPprof,
		DataDir:     a.cfg.DataDir,
		ServiceCIDR: a.cfg.ServiceCIDR,
		Transport:   a.internalTransport(),
		Log:         a.log,
		Routes: []apiserver.Route{
			{Pattern: "GET /metrics", Handler: a.metricsHandler().ServeHTTP},
			{Pattern: "POST /shoal/v1/events", Via: apiserver.OnLeader, Handler: a.recordEvents},
			{Pattern: "POST /shoal/v1/seat", Handler: a.openSeat},
			{Pattern: "GET /shoal/v1/raft", Via: apiserver.OnServer, Handler: a.raftServers},
		},
	}, apiserver.Deps{
		Seats:   agentSeats{a},
		Members: agentMembers{a},
		Runtime: agentRuntime{a},
		Metrics: agentMetrics{a},
		Current: agentState{a},
		Reads:   a.reads,
	})
}

// cutForwardsToTheFailed cuts, each time gossip declares a member
// failed, the requests this agent forwarded to it
// (agent/apiserver/forward_cut.go): the node's assignments query and
// watches then go again, to a live server, at once. An agent that departs
// on purpose answers what it was asked before it stops: nothing is cut.
func (a *Agent) cutForwardsToTheFailed(ctx context.Context, srv *apiserver.Server) {
	for {
		failed := a.members.failures.wait()
		select {
		case <-ctx.Done():
			return
		case <-failed:
		}
		srv.CutForwardsTo(a.members.failures.take()...)
	}
}

// agentSeats is this agent's Raft seat, if it holds one now.
type agentSeats struct{ a *Agent }

func (s agentSeats) Seat() (apiserver.Store, apiserver.Log) {
	r := s.a.role.Load()
	if r == nil {
		return nil, nil
	}
	return r.fsm, r.raft
}

// agentMembers is the fleet as gossip sees it.
type agentMembers struct{ a *Agent }

func (m agentMembers) Members() []apiserver.Member {
	if m.a.members == nil {
		return nil
	}
	return m.a.membersView.get(m.a.members) // members_view.go
}

// agentRuntime is the node's containerd runtime once it answered.
type agentRuntime struct{ a *Agent }

func (r agentRuntime) Runtime() apiserver.PodRuntime {
	if rt := r.a.runtime.get(); rt != nil {
		return rt
	}
	return nil // not a typed nil: the API checks for none
}

type agentMetrics struct{ a *Agent }

func (m agentMetrics) Request(method string, code int) { m.a.metrics.request(method, code) }

type agentState struct{ a *Agent }

func (s agentState) StateCurrent(ctx context.Context) bool { return s.a.stateCurrent(ctx) }

// The agent's own endpoints (events, seats) answer the way the API does.

// assignmentsView is the node's blocking query answer (apiserver.AssignmentsView).
type assignmentsView = apiserver.AssignmentsView

const (
	indexHeader  = apiserver.IndexHeader
	maxBodyBytes = apiserver.MaxBodyBytes
)

func writeJSON(w http.ResponseWriter, code int, v any) { apiserver.WriteJSON(w, code, v) }

func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	apiserver.WriteError(w, log, err)
}

func invalid(err error) error { return apiserver.Invalid(err) }
