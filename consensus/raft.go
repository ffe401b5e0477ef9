package consensus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Raft is one Raft server of the fleet over the stores and transport it
// was opened with.
type Raft struct {
	cfg    Config
	log    *slog.Logger
	raft   *raft.Raft
	fsm    StateMachine
	stores Stores

	// readiness: consensus/raft_readiness.go
	ready readiness

	// commit nudges: consensus/commit_nudge.go
	nudge     chan struct{}
	stopNudge chan struct{}
	nudged    chan struct{}
	stopOnce  sync.Once
	// heartbeatDone: raft_leader_heartbeat.go; closed at once when the
	// leader's heartbeat timeout is the followers'.
	heartbeatDone chan struct{}
}

// StateMachine is what Raft drives (Apply, Snapshot, Restore) and what
// "caught up" reads of it: the index of the last command it applied and a
// wait for the next. *FSM is the one shoal runs.
type StateMachine interface {
	raft.FSM
	Index() uint64
	WaitIndex(ctx context.Context, after uint64) (uint64, error)
}

var _ StateMachine = (*FSM)(nil)

// Stores are what a server keeps its log, its term and vote, and its
// snapshots in, and the transport it reaches its peers through. The fleet
// runs raft-wal, file snapshots and TCP (OpenOnDisk); unit tests run
// hashicorp/raft's in-memory twins (consensus/testing.go).
type Stores struct {
	Log       raft.LogStore
	Stable    raft.StableStore
	Snapshots raft.SnapshotStore
	Transport raft.Transport
	// Close releases the stores once Raft has shut down; nil when there is
	// nothing to release.
	Close func() error
}

func (s Stores) validate() error {
	var errs []error
	if s.Log == nil {
		errs = append(errs, errors.New("Stores.Log: required"))
	}
	if s.Stable == nil {
		errs = append(errs, errors.New("Stores.Stable: required"))
	}
	if s.Snapshots == nil {
		errs = append(errs, errors.New("Stores.Snapshots: required"))
	}
	if s.Transport == nil {
		errs = append(errs, errors.New("Stores.Transport: required"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("raft stores: %w", errors.Join(errs...))
	}
	return nil
}

func (s Stores) close() error {
	if s.Close == nil {
		return nil
	}
	return s.Close()
}

// Open starts a Raft server over fsm with the given stores and transport;
// from here on the server owns them (Shutdown closes them, and so does a
// failed Open). A server with no state waits, without a leader, until
// BootstrapIfNew or a leader's AddVoter brings it into a cluster.
func Open(cfg Config, fsm StateMachine, st Stores) (*Raft, error) {
	cfg = cfg.withDefaults()
	if err := errors.Join(cfg.Validate(), st.validate()); err != nil {
		_ = st.close()
		return nil, fmt.Errorf("open raft %s: %w", cfg.ID, err)
	}
	log := cfg.Log.With("raft_id", cfg.ID)
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.TrailingLogs = cfg.TrailingLogs
	rc.Logger = newHCLogger(log, "raft", cfg.RaftLogLevel.Level())
	// Without it the leader samples each heartbeat's and AppendEntries'
	// time twice, once more under a name per follower.
	rc.NoLegacyTelemetry = true
	if err := raft.ValidateConfig(rc); err != nil {
		_ = st.close()
		return nil, fmt.Errorf("open raft %s: %w", cfg.ID, err)
	}
	rr, err := raft.NewRaft(rc, fsm, st.Log, st.Stable, st.Snapshots, st.Transport)
	if err != nil {
		_ = st.close()
		return nil, fmt.Errorf("open raft %s: %w", cfg.ID, err)
	}
	r := &Raft{cfg: cfg, log: log, raft: rr, fsm: fsm, stores: st,
		nudge: make(chan struct{}, 1), stopNudge: make(chan struct{}), nudged: make(chan struct{})}
	go r.runCommitNudges(r.stopNudge)
	r.heartbeatDone = make(chan struct{})
	if cfg.LeaderHeartbeatTimeout != cfg.HeartbeatTimeout {
		go r.runLeaderHeartbeat(r.stopNudge, r.heartbeatDone)
	} else {
		close(r.heartbeatDone)
	}
	// What this server held when it started: it is not caught up before
	// the leader's commit index reaches it (raft_readiness.go).
	r.ready.floor = rr.LastIndex()
	log.Info("raft server open", "addr", st.Transport.LocalAddr(), "last_index", r.ready.floor)
	return r, nil
}

// Server is one member of the Raft configuration.
type Server struct {
	ID      string
	Address string
	// Voter servers vote and count toward the quorum; the others only
	// follow the log.
	Voter bool
}

// Suffrage names the server's role as Raft does: Voter or Nonvoter.
func (s Server) Suffrage() string {
	if s.Voter {
		return raft.Voter.String()
	}
	return raft.Nonvoter.String()
}

// BootstrapIfNew makes servers the first configuration, unless this server
// already has state (then there is nothing to do, and no error).
func (r *Raft) BootstrapIfNew(servers []Server) error {
	has, err := raft.HasExistingState(r.stores.Log, r.stores.Stable, r.stores.Snapshots)
	if err != nil {
		return fmt.Errorf("bootstrap %s: read existing state: %w", r.cfg.ID, err)
	}
	if has {
		return nil
	}
	var conf raft.Configuration
	for _, s := range servers {
		suffrage := raft.Nonvoter
		if s.Voter {
			suffrage = raft.Voter
		}
		conf.Servers = append(conf.Servers, raft.Server{Suffrage: suffrage, ID: raft.ServerID(s.ID), Address: raft.ServerAddress(s.Address)})
	}
	err = r.raft.BootstrapCluster(conf).Error()
	if err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		return fmt.Errorf("bootstrap %s with %d servers: %w", r.cfg.ID, len(servers), err)
	}
	return nil
}

// Apply commits cmd through the log and returns what the state machine
// made of it: a *Result, or the typed error Apply rejected it with
// (NotFoundError, ConflictError, ...). On a follower it returns an error
// wrapping raft.ErrNotLeader. When ctx ends first the command may still
// commit later; the caller only stops waiting.
func (r *Raft) Apply(ctx context.Context, cmd Command) (*Result, error) {
	data, err := EncodeCommand(cmd)
	if err != nil {
		return nil, err
	}
	// The timeout bounds only the wait to enqueue; ctx bounds the rest.
	enqueue := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		enqueue = time.Until(dl)
		if enqueue <= 0 {
			return nil, fmt.Errorf("apply %s: %w", cmd.Type(), context.DeadlineExceeded)
		}
	}
	f := r.raft.Apply(data, enqueue)
	defer r.nudgeCommit()
	if err := waitFuture(ctx, f); err != nil {
		return nil, fmt.Errorf("apply %s: %w", cmd.Type(), err)
	}
	switch resp := f.Response().(type) {
	case *Result:
		return resp, nil
	case error:
		return nil, resp
	}
	return nil, fmt.Errorf("apply %s: state machine returned %T", cmd.Type(), f.Response())
}

func waitFuture(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Addr is the address peers reach this server at.
func (r *Raft) Addr() string { return string(r.stores.Transport.LocalAddr()) }

// ID is this server's Raft ID.
func (r *Raft) ID() string { return r.cfg.ID }

// IsLeader reports whether this server is the leader now.
func (r *Raft) IsLeader() bool { return r.raft.State() == raft.Leader }

// Leader returns the current leader's ID and address, empty when unknown.
func (r *Raft) Leader() (id, addr string) {
	a, i := r.raft.LeaderWithID()
	return string(i), string(a)
}

// LeaderCh delivers true when this server becomes leader and false when it
// stops; a slow reader sees only the latest transition.
func (r *Raft) LeaderCh() <-chan bool { return r.raft.LeaderCh() }

// AddVoter adds (or re-addresses) a voting server; leader only.
func (r *Raft) AddVoter(ctx context.Context, id, addr string) error {
	f := r.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, timeoutOf(ctx))
	defer r.nudgeCommit()
	if err := waitFuture(ctx, f); err != nil {
		return fmt.Errorf("add voter %s at %s: %w", id, addr, err)
	}
	return nil
}

// RemoveServer removes a server from the configuration; leader only.
func (r *Raft) RemoveServer(ctx context.Context, id string) error {
	f := r.raft.RemoveServer(raft.ServerID(id), 0, timeoutOf(ctx))
	defer r.nudgeCommit()
	if err := waitFuture(ctx, f); err != nil {
		return fmt.Errorf("remove server %s: %w", id, err)
	}
	return nil
}

func timeoutOf(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d > 0 {
			return d
		}
	}
	return 0
}

// Servers returns the latest Raft configuration.
func (r *Raft) Servers() ([]Server, error) {
	f := r.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("raft configuration: %w", err)
	}
	var out []Server
	for _, s := range f.Configuration().Servers {
		out = append(out, Server{ID: string(s.ID), Address: string(s.Address), Voter: s.Suffrage == raft.Voter})
	}
	return out, nil
}

// Stats returns hashicorp/raft's counters (state, term, indexes, peers)
// as strings, for metrics and debugging only: decisions use the typed
// methods (AppliedIndex, LastContact, CaughtUp, Barrier, VerifyLeader).
func (r *Raft) Stats() map[string]string { return r.raft.Stats() }

// AppliedIndex is the index of the last entry Raft handed to the state
// machine (which may still be applying it; CaughtUp waits for that).
func (r *Raft) AppliedIndex() uint64 { return r.raft.AppliedIndex() }

// CommitIndex is the index of the last entry this server knows committed.
func (r *Raft) CommitIndex() uint64 { return r.raft.CommitIndex() }

// LastIndex is the index of the last entry in this server's log or
// snapshot, committed or not.
func (r *Raft) LastIndex() uint64 { return r.raft.LastIndex() }

// Snapshot takes a snapshot now and trims the log behind it.
func (r *Raft) Snapshot() error {
	if err := r.raft.Snapshot().Error(); err != nil {
		return fmt.Errorf("snapshot %s: %w", r.cfg.ID, err)
	}
	return nil
}

// Shutdown stops the server and closes its stores and transport. On disk
// the data directory stays, so OpenOnDisk on it resumes where this server
// stopped.
func (r *Raft) Shutdown() error {
	r.stopOnce.Do(func() { close(r.stopNudge) })
	err := r.raft.Shutdown().Error()
	<-r.nudged
	<-r.heartbeatDone
	if cerr := r.stores.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("shutdown raft %s: %w", r.cfg.ID, err)
	}
	return nil
}
