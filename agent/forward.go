package agent

import (
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/shoal-dev/shoal/api"
)

// forwardedHeader marks a request one agent passed to another, so that a
// request is forwarded at most once and never loops between agents.
const forwardedHeader = "X-Shoal-Forwarded-By"


// viaServer serves reads from the local state on servers; clients hold no
// state and pass the request to a live server.
func (a *Agent) viaServer(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.Server {
			h(w, r)
			return
		}
		a.forwardTo(w, r, a.anyServerAPI())
	}
}

// viaLeader runs writes on the Raft leader: any other agent forwards them.
func (a *Agent) viaLeader(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.Server && a.raft.IsLeader() {
			h(w, r)
			return
		}
		target := a.leaderAPI()
		if target == "" && !a.cfg.Server {
			target = a.anyServerAPI()
		}
		a.forwardTo(w, r, target)
	}
}

func (a *Agent) forwardTo(w http.ResponseWriter, r *http.Request, target string) {
	if target == "" || r.Header.Get(forwardedHeader) != "" {
		writeJSON(w, http.StatusServiceUnavailable, api.Status{
			TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Failure",
			Reason: "ServiceUnavailable", Code: http.StatusServiceUnavailable,
			Message: "no Raft leader is known to this agent yet; retry in a moment",
		})
		return
	}
	u := &url.URL{Scheme: "http", Host: target}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		a.log.Warn("forward request", "to", target, "err", err)
		writeJSON(w, http.StatusBadGateway, api.Status{
			TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Failure",
			Reason: "ServiceUnavailable", Code: http.StatusBadGateway, Message: "the agent this request was forwarded to did not answer; retry",
		})
	}
	r.Header.Set(forwardedHeader, a.cfg.Name)
	proxy.ServeHTTP(w, r)
}

// leaderName is the node name of the Raft leader, "" when none is known.
func (a *Agent) leaderName() string {
	if !a.cfg.Server {
		return ""
	}
	id, _ := a.raft.Leader()
	return id
}

// leaderAPI is the API address of the Raft leader, from gossip.
func (a *Agent) leaderAPI() string {
	name := a.leaderName()
	if name == "" {
		return ""
	}
	return a.memberAPI(name)
}

func (a *Agent) memberAPI(name string) string {
	for _, m := range a.members.members() {
		if m.Name == name && m.Alive {
			return m.Meta.API
		}
	}
	return ""
}

// anyServerAPI picks a live server; the first by name, so that a client's
// requests keep going to the same one.
func (a *Agent) anyServerAPI() string {
	for _, m := range a.members.members() {
		if m.Alive && m.Meta.Server {
			return m.Meta.API
		}
	}
	return ""
}
