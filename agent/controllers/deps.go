package controllers

import (
	"context"
	"net/netip"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/placement"
)

// State is the part of the leader's local state the controllers read:
// the consensus state machine's read methods (*consensus.FSM has them).
type State interface {
	Pods(filter func(*api.Pod) bool) ([]*api.Pod, uint64)
	Node(name string) (*api.Node, error)
	Nodes() ([]*api.Node, uint64)
	AppendNodeInfos(dst []placement.NodeInfo) []placement.NodeInfo
	FreePodIP(node string) (netip.Addr, error)
	FreePodIPs(node string, n int) ([]netip.Addr, error) // placement_batch.go
	// WaitIndex blocks until the state passes after, or ctx ends.
	WaitIndex(ctx context.Context, after uint64) (uint64, error)
}

// ReplicaStore is the part of the state that holds RCs and ReplicaSets; a
// State without it runs no replication controller.
type ReplicaStore interface {
	Controllers(kind string, filter func(api.Replicated) bool) ([]api.Replicated, uint64)
}

// ServiceStore is the part of the state that holds Services and the
// endpoints kept for them; a State without it runs no endpoints
// controller.
type ServiceStore interface {
	Services(filter func(*api.Service) bool) ([]*api.Service, uint64)
	ListEndpoints(filter func(*api.Endpoints) bool) ([]*api.Endpoints, uint64)
	EndpointSlices(filter func(*api.EndpointSlice) bool) ([]*api.EndpointSlice, uint64)
}

// Writer proposes consensus commands through Raft; on the leader Apply
// returns once the entry has applied to the local state.
type Writer interface {
	Apply(ctx context.Context, cmd consensus.Command) (*consensus.Result, error)
}

// Seat is what the controllers ask this server's Raft seat about its
// leadership (*consensus.Raft is one).
type Seat interface {
	Writer
	// LeaderCh tells every change of this server's leadership.
	LeaderCh() <-chan bool
	IsLeader() bool
	// Barrier waits until the local state holds everything committed
	// before it.
	Barrier(ctx context.Context) error
	// TransferLeadership hands leadership on (id empty: to any voter).
	TransferLeadership(ctx context.Context, id string) error
}

// Member is one agent as gossip sees it, with what it tells the fleet
// about itself.
type Member struct {
	Name   string
	Addr   string
	Alive  bool
	API    string // its HTTP API, host:port
	Raft   string // its Raft address when it holds a seat
	Server bool
	Memory string
	CPU    string
	Pods   int // 0: DefaultMaxPods
	Labels map[string]string
}

// Members is gossip's view of the fleet.
type Members interface {
	// Members lists every agent gossip knows, alive or not, by name.
	Members() []Member
	// Changes returns a channel closed at the next membership event.
	Changes() <-chan struct{}
	// Join contacts the given gossip addresses; nil once one answered.
	Join(addrs []string) error
}

// Verdicts is what Members may also tell: whether gossip declared a
// member dead because it stopped answering, rather than because it left
// on purpose. Only such a verdict proves a silence before it
// (liveness.Config.VerdictCredit); without Verdicts none is credited.
type Verdicts interface {
	Failed(name string) bool
}

// Recorder stores the events the leader observes about a pod (as the
// scheduler's); it must not block.
type Recorder interface {
	LeaderEvent(pod *api.Pod, eventType, reason, message string)
}

// Metrics counts what the placement loop does.
type Metrics interface {
	Placed()
	PlacementFailed()
}

// SeatAdmin changes the Raft configuration (*consensus.Raft is one).
type SeatAdmin interface {
	Servers() ([]consensus.Server, error)
	AddVoter(ctx context.Context, id, addr string) error
	AddNonvoter(ctx context.Context, id, addr string) error
	RemoveServer(ctx context.Context, id string) error
}

// SeatOpener asks a live client to open a Raft seat and answers the Raft
// address it holds it at.
type SeatOpener interface {
	OpenSeat(ctx context.Context, m Member) (raftAddr string, err error)
}

var (
	_ State        = (*consensus.FSM)(nil)
	_ ReplicaStore = (*consensus.FSM)(nil)
	_ ServiceStore = (*consensus.FSM)(nil)
	_ Seat         = (*consensus.Raft)(nil)
	_ SeatAdmin    = (*consensus.Raft)(nil)
)

type noRecorder struct{}

func (noRecorder) LeaderEvent(*api.Pod, string, string, string) {}

type noMetrics struct{}

func (noMetrics) Placed()          {}
func (noMetrics) PlacementFailed() {}
