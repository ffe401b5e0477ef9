// Package controllers holds what the Raft leader runs: node registration,
// the placement loop, ReplicationController/ReplicaSet replication,
// Deployments (their ReplicaSets, rolled by template), node
// lifecycle (lost nodes and their replicas), seat healing and the
// endpoints of Services. Each is a
// loop with one job; all start once a new leader's state is current and
// stop the moment it no longer leads. They read the state and write
// through Raft only by the small interfaces of deps.go, which package
// agent wires to the real seat, state and gossip.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
)

// Config is what the controllers take from the agent's configuration.
type Config struct {
	// Name is this server's node name: seat healing never removes its
	// own seat.
	Name string
	// PodCIDR and BlockBits split the fleet's pod range into one block per
	// node, given with every node registration.
	PodCIDR   string
	BlockBits int
	// Liveness is the fleet's liveness config (package agent/liveness):
	// NodeGrace is how long an agent must be out of contact before the
	// fleet declares its node lost (it also paces inviting lost nodes
	// back), and the credit a fresh gossip verdict earns comes from its
	// gossip timings. The agent owns it.
	Liveness liveness.Config
	// Servers is how many Raft voters the fleet keeps.
	Servers int
	// SeatZone, when set, is the zone (topology.kubernetes.io/zone) whose
	// agents seat healing gives a seat first: the central site of an edge
	// fleet, whose uplinks do not cut the seats off each other.
	SeatZone string
	// GossipPort is where every agent gossips; lost nodes are invited
	// back there.
	GossipPort int
	// ServiceCIDR is the fleet's service range ("" the default): the
	// `kubernetes` Service takes its first address (apiservice.go).
	ServiceCIDR string
	// KubeletVersion is what every registered node reports.
	KubeletVersion string
	// Log is where the controllers log; nil discards.
	Log *slog.Logger
}

// Deps is what the controllers read, write and ask through.
type Deps struct {
	State   State
	Seat    Seat
	Members Members
	// Events records what placement observed; nil records nothing.
	Events Recorder
	// Metrics counts placements; nil counts nothing.
	Metrics Metrics
	// Seats changes the Raft configuration; nil turns seat healing off.
	Seats SeatAdmin
	// Opener asks a client to open a seat; nil promotes only agents that
	// already hold one.
	Opener SeatOpener
}

// Leader is the leader's controllers for one Raft seat.
type Leader struct {
	cfg     Config
	log     *slog.Logger
	state   State
	seat    Seat
	members Members
	events  Recorder
	metrics Metrics
	seats   SeatAdmin
	opener  SeatOpener

	// deaths times how long each member has been out of contact
	// (nodelifecycle.go), reset at every term.
	deaths liveness.Clock
	// seatless times voters whose agent runs without its seat
	// (seats.go), reset at every term.
	seatless liveness.Clock
}

// New checks cfg and deps and returns the controllers; Run runs them.
func New(cfg Config, deps Deps) (*Leader, error) {
	var errs []error
	if cfg.Liveness.NodeGrace <= 0 {
		errs = append(errs, fmt.Errorf("node grace %v: must be positive", cfg.Liveness.NodeGrace))
	}
	if deps.State == nil {
		errs = append(errs, errors.New("no state to read"))
	}
	if deps.Seat == nil {
		errs = append(errs, errors.New("no Raft seat"))
	}
	if deps.Members == nil {
		errs = append(errs, errors.New("no gossip members"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("controllers: %w", err)
	}
	l := &Leader{cfg: cfg, log: cfg.Log, state: deps.State, seat: deps.Seat, members: deps.Members,
		events: deps.Events, metrics: deps.Metrics, seats: deps.Seats, opener: deps.Opener}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.events == nil {
		l.events = noRecorder{}
	}
	if l.metrics == nil {
		l.metrics = noMetrics{}
	}
	return l, nil
}

// Run runs the leader's controllers while this server leads, and stops
// them the moment it does not; it returns when ctx ends.
func (l *Leader) Run(ctx context.Context) { l.lead(ctx, l.runControllers) }

// lead runs controllers while this server leads, but only once its state
// holds everything committed before its leadership (a Barrier): a new
// leader learns what its predecessor committed only when its own first
// entry commits, and a controller acting on the state before that would,
// for one, place again a pod that is already bound or replace replicas
// that run.
func (l *Leader) lead(ctx context.Context, controllers func(context.Context)) {
	var (
		cancel context.CancelFunc
		done   chan struct{}
	)
	stop := func() {
		if cancel != nil {
			cancel()
			<-done
			cancel = nil
		}
	}
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case isLeader := <-l.seat.LeaderCh():
			stop()
			if !isLeader {
				l.log.Info("lost leadership")
				continue
			}
			l.log.Info("became leader; controllers start once the state is current")
			lctx, lcancel := context.WithCancel(ctx)
			cancel = lcancel
			done = make(chan struct{})
			go func() {
				defer close(done)
				if l.leaderBarrier(lctx) {
					controllers(lctx)
				}
			}()
		}
	}
}

// Barrier timing for a new leader: a barrier waits behind everything the
// state machine has yet to apply, which after a restart is the whole log
// since the last snapshot, so one attempt gets generous time; a leader
// whose barriers keep failing hands leadership on rather than lead with
// no controllers.
const (
	leaderBarrierTimeout  = 10 * time.Second
	leaderBarrierAttempts = 3
	leaderBarrierBackoff  = 500 * time.Millisecond
)

// leaderBarrier returns true once a Barrier succeeded while this server
// still leads, and false when ctx ends (leadership lost, agent stopping).
func (l *Leader) leaderBarrier(ctx context.Context) bool {
	seat := l.seat
	for attempt := 1; ; attempt++ {
		bctx, cancel := context.WithTimeout(ctx, leaderBarrierTimeout)
		err := seat.Barrier(bctx)
		cancel()
		if err == nil {
			l.log.Info("leader's state is current: starting controllers", "attempt", attempt)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		l.log.Warn("leader barrier failed: controllers wait", "attempt", attempt, "err", err)
		if attempt%leaderBarrierAttempts == 0 && seat.IsLeader() {
			l.log.Error("leader cannot make its state current: stepping down", "attempts", attempt)
			tctx, cancel := context.WithTimeout(ctx, leaderBarrierTimeout)
			if err := seat.TransferLeadership(tctx, ""); err != nil && ctx.Err() == nil {
				l.log.Error("step down", "err", err)
			}
			cancel()
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(leaderBarrierBackoff):
		}
	}
}

func (l *Leader) runControllers(ctx context.Context) {
	// What this server saw while it led before may be stale: its clocks
	// start again, which can only delay a replacement (liveness.Clock).
	l.deaths.Reset()
	l.seatless.Reset()
	loops := []func(context.Context){l.nodeController, l.placementController,
		l.replicationController, l.deploymentController, l.nodeLifecycleController, l.seatController, l.endpointsController}
	loops = append(loops, l.namespaceController, l.garbageCollector)    // namespace.go, gc.go
	loops = append(loops, l.noExecuteController, l.nodeLeaseController) // taint_eviction.go, node_leases.go
	loops = append(loops, l.jobController, l.cronJobController)         // job.go, cronjob.go
	loops = append(loops, l.daemonSetController)                        // daemonset.go
	loops = append(loops, l.serviceAccountController)                   // serviceaccounts.go
	loops = append(loops, l.apiServiceController)                       // apiservice.go
	finished := make(chan struct{}, len(loops))
	for _, loop := range loops {
		go func() { loop(ctx); finished <- struct{}{} }()
	}
	for range loops {
		<-finished
	}
}

// onEachChange runs pass at every new index of the state, and at least
// every resync (a lost write or a failed step is retried then), until ctx
// is done: the wake-up of every loop that reacts to the state.
func (l *Leader) onEachChange(ctx context.Context, resync time.Duration, pass func()) {
	var after uint64
	for ctx.Err() == nil {
		wctx, cancel := context.WithTimeout(ctx, resync)
		idx, _ := l.state.WaitIndex(wctx, after)
		cancel()
		if ctx.Err() != nil {
			return
		}
		after = idx
		pass()
	}
}
