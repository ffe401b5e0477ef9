// Package apiserver is shoal's Kubernetes REST surface: the routes every
// agent serves, discovery, OpenAPI, Tables, watches, the forwarding of
// reads to a server and of writes to the Raft leader, the read index, the
// bearer-token middleware, and the log, exec and port-forward streams of
// the pods this node runs. It reaches the rest of the agent only through
// the interfaces below; package agent wires the real ones.
package apiserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/placement"
	"github.com/shoal-dev/shoal/podruntime"
)

// Store is the local copy of the cluster state that the API reads
// (consensus.FSM). Kinds beyond pods and nodes are found by asserting the
// narrower interfaces of the files that serve them (api_rc.go,
// api_secrets.go, kube_watch.go, snapshot.go).
type Store interface {
	Pod(namespace, name string) (*api.Pod, error)
	Pods(filter func(*api.Pod) bool) ([]*api.Pod, uint64)
	PodsOnNode(node string) ([]*api.Pod, uint64)
	Node(name string) (*api.Node, error)
	Nodes() ([]*api.Node, uint64)
	NodeInfos() []placement.NodeInfo
	Index() uint64
	WaitIndex(ctx context.Context, after uint64) (uint64, error)
}

// Log is how the API writes (Apply through the Raft leader) and what it
// asks the seat before a linearizable read; consensus.Raft is the one
// implementation.
type Log interface {
	Apply(ctx context.Context, cmd consensus.Command) (*consensus.Result, error)
	IsLeader() bool
	Leader() (id, addr string)
	// Barrier waits until the local state holds everything committed
	// before it.
	Barrier(ctx context.Context) error
	// VerifyLeader confirms with a quorum that this server still leads.
	VerifyLeader(ctx context.Context) error
	// LeaderReady reports whether this server leads and a Barrier passed
	// in its current term.
	LeaderReady() bool
}

// Seats tells whether this agent holds a Raft seat now. A client that the
// fleet promotes gets one while the API serves, so it is asked per
// request; once an agent has a seat it keeps it while it runs.
type Seats interface {
	// Seat returns the local state and the log; both nil on a client.
	Seat() (Store, Log)
}

// Member is one agent of the fleet as gossip knows it.
type Member struct {
	Name   string
	Addr   string // gossip address
	API    string // host:port of its API
	Server bool
	Alive  bool
}

// Members lists the fleet's agents, sorted by name: the locator of the
// leader's and the servers' API addresses for forwarding.
type Members interface {
	Members() []Member
}

// PodRuntime is what the node's streams and image endpoints need of
// containerd (podruntime.Runtime).
type PodRuntime interface {
	Logs(ctx context.Context, podUID, container string, opts podruntime.LogOptions, w io.Writer) error
	Usage(ctx context.Context, podUID string, containers []string) ([]podruntime.ContainerUsage, error)
	Exec(ctx context.Context, podUID, container string, opts podruntime.ExecOptions) (int, error)
	ImportImage(ctx context.Context, archive io.Reader) ([]string, error)
	ListImages(ctx context.Context) ([]string, error)
	RemoveImage(ctx context.Context, ref string) (string, error)
}

// Runtimes hands out the node's runtime once containerd has answered.
type Runtimes interface {
	// Runtime returns nil until containerd is connected.
	Runtime() PodRuntime
}

// Metrics counts the API's answers.
type Metrics interface {
	Request(method string, code int)
}

// StateChecker tells whether this server's state may be served to a node
// that acts on it (its assignments).
type StateChecker interface {
	StateCurrent(ctx context.Context) bool
}

// ReadIndexer gives the index a linearizable read must wait for; nil in
// Deps: ask the Raft leader, as every running agent does.
type ReadIndexer interface {
	ReadIndex(ctx context.Context) (uint64, error)
}

// Via says where a route runs.
type Via int

const (
	// Here runs the route on the agent that received it.
	Here Via = iota
	// OnServer runs it on a server: a client forwards it to one.
	OnServer
	// OnLeader runs it on the Raft leader: any other agent forwards it.
	OnLeader
)

// Route is an endpoint the agent serves beside the Kubernetes surface
// (metrics, events, seats), with the same middleware and forwarding.
type Route struct {
	Pattern string
	Via     Via
	Handler http.HandlerFunc
}

// Config is what the API server is told at start.
type Config struct {
	// Name is this agent's node name.
	Name string
	// Version is shoal's version, as /version and OpenAPI report it.
	Version string
	// Token is the fleet's bearer token; "" is an open API.
	Token string
	// DebugPprof serves Go's profiles even without a token.
	DebugPprof bool
	// DataDir holds image archives while they are imported.
	DataDir string
	// Transport carries the calls this agent makes to agents (with the
	// token and TLS); nil: http.DefaultTransport.
	Transport http.RoundTripper
	// ServiceCIDR is the fleet's service range, which ClusterIPs come
	// from; "" is consensus.DefaultServiceCIDR.
	ServiceCIDR string
	// Routes are the agent's own endpoints.
	Routes []Route
	Log    *slog.Logger
}

// Deps are the parts of the agent the API reaches.
type Deps struct {
	Seats   Seats
	Members Members
	Runtime Runtimes     // nil: no node side
	Metrics Metrics      // nil: not counted
	Current StateChecker // nil: always current
	Reads   ReadIndexer  // nil: the leader's read index
}

// Server is one agent's API.
type Server struct {
	cfg       Config
	log       *slog.Logger
	inflight  inFlight // forwarded requests, by target (forward_cut.go)
	deps      Deps
	reads     ReadIndexer
	transport http.RoundTripper
	// applier runs server-side applies (kube_apply.go).
	applier *applier
	// usage keeps the node's last cgroup readings (metrics_api.go).
	usage *usageSampler
	// routes is the nodes' part of the assignments views (assignments_view.go).
	routes atomic.Pointer[routes]
	// bodies is the budget of request body bytes in flight (limits.go).
	bodies *semaphore.Weighted
}

// New builds the API server; Handler serves it.
func New(cfg Config, deps Deps) *Server {
	s := &Server{cfg: cfg, log: cfg.Log, deps: deps, reads: deps.Reads, transport: cfg.Transport, applier: &applier{}, usage: &usageSampler{},
		bodies: semaphore.NewWeighted(bodyBudget)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.transport == nil {
		s.transport = http.DefaultTransport
	}
	return s
}

// isServer tells whether this agent holds a Raft seat now.
func (srv *Server) isServer() bool { return srv.fsm() != nil }

// fsm is the local state; nil on a client.
func (srv *Server) fsm() Store {
	if srv.deps.Seats == nil {
		return nil
	}
	st, _ := srv.deps.Seats.Seat()
	return st
}

// raft is the log this server writes through; nil on a client.
func (srv *Server) raft() Log {
	if srv.deps.Seats == nil {
		return nil
	}
	st, l := srv.deps.Seats.Seat()
	if l == nil {
		return nil
	}
	return dryRunLog{Log: l, store: st} // dryrun.go
}

func (srv *Server) members() []Member {
	if srv.deps.Members == nil {
		return nil
	}
	return srv.deps.Members.Members()
}

// runtime is the node's runtime, nil until containerd answers.
func (srv *Server) runtime() PodRuntime {
	if srv.deps.Runtime == nil {
		return nil
	}
	return srv.deps.Runtime.Runtime()
}

func (srv *Server) request(method string, code int) {
	if srv.deps.Metrics != nil {
		srv.deps.Metrics.Request(method, code)
	}
}

func (srv *Server) stateCurrent(ctx context.Context) bool {
	if srv.deps.Current == nil {
		return true
	}
	return srv.deps.Current.StateCurrent(ctx)
}

// internalClient is the HTTP client for this agent's calls to other
// agents. timeout 0 means none.
func (srv *Server) internalClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: srv.transport}
}
