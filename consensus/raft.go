package consensus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
)

// Raft is one Raft server of the fleet, with its persistent log, its
// snapshots and its TCP transport.
type Raft struct {
	cfg   Config
	raft  *raft.Raft
	wal   *raftwal.WAL
	meta  *metadb.BoltMetaDB
	trans *raft.NetworkTransport
	snaps raft.SnapshotStore
}

// Open starts a Raft server over fsm with its state in cfg.DataDir. A
// server with no state waits, without a leader, until BootstrapIfNew or a
// leader's AddVoter brings it into a cluster.
func Open(cfg Config, fsm raft.FSM) (*Raft, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Log.With("raft_id", cfg.ID)
	level := cfg.RaftLogLevel.Level()

	base := filepath.Join(cfg.DataDir, "raft")
	walDir := filepath.Join(base, "wal")
	if err := os.MkdirAll(walDir, 0o700); err != nil {
		return nil, fmt.Errorf("open raft %s: create %s: %w", cfg.ID, walDir, err)
	}
	// raft-wal is both log store and stable store (term, vote). WAL.Close
	// (v0.4.0) leaves its bolt meta database open and locked, so a server
	// reopened in the same process would block on the file lock: we own the
	// meta store and close it ourselves.
	meta := &metadb.BoltMetaDB{}
	wal, err := raftwal.Open(walDir, raftwal.WithMetaStore(meta), raftwal.WithLogger(newHCLogger(log, "raft-wal", level)))
	if err != nil {
		_ = meta.Close()
		return nil, fmt.Errorf("open raft %s: log in %s: %w", cfg.ID, walDir, err)
	}
	r := &Raft{cfg: cfg, wal: wal, meta: meta}
	ok := false
	defer func() {
		if !ok {
			r.closeStores()
		}
	}()

	// The store puts its files in base/snapshots.
	r.snaps, err = raft.NewFileSnapshotStoreWithLogger(base, cfg.SnapshotRetain, newHCLogger(log, "raft-snapshots", level))
	if err != nil {
		return nil, fmt.Errorf("open raft %s: snapshots in %s: %w", cfg.ID, base, err)
	}

	var advertise net.Addr
	if cfg.AdvertiseAddr != "" {
		advertise, err = net.ResolveTCPAddr("tcp", cfg.AdvertiseAddr)
		if err != nil {
			return nil, fmt.Errorf("open raft %s: advertise address %s: %w", cfg.ID, cfg.AdvertiseAddr, err)
		}
	}
	r.trans, err = newTransport(cfg, advertise, newHCLogger(log, "raft-net", level)) // consensus/tls_stream.go
	if err != nil {
		return nil, fmt.Errorf("open raft %s: listen on %s: %w", cfg.ID, cfg.BindAddr, err)
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.TrailingLogs = cfg.TrailingLogs
	rc.Logger = newHCLogger(log, "raft", level)
	if err := raft.ValidateConfig(rc); err != nil {
		return nil, fmt.Errorf("open raft %s: %w", cfg.ID, err)
	}
	r.raft, err = raft.NewRaft(rc, fsm, wal, wal, r.snaps, r.trans)
	if err != nil {
		return nil, fmt.Errorf("open raft %s: %w", cfg.ID, err)
	}
	ok = true
	log.Info("raft server open", "addr", r.trans.LocalAddr(), "data_dir", cfg.DataDir)
	return r, nil
}

// BootstrapIfNew makes servers the first configuration, unless this server
// already has state (then there is nothing to do, and no error).
func (r *Raft) BootstrapIfNew(servers []raft.Server) error {
	has, err := raft.HasExistingState(r.wal, r.wal, r.snaps)
	if err != nil {
		return fmt.Errorf("bootstrap %s: read existing state: %w", r.cfg.ID, err)
	}
	if has {
		return nil
	}
	err = r.raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error()
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

// Barrier waits until every entry committed before it is applied to the
// local state: a new leader calls it before trusting its own reads.
func (r *Raft) Barrier(ctx context.Context) error {
	timeout := time.Duration(0)
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if err := waitFuture(ctx, r.raft.Barrier(timeout)); err != nil {
		return fmt.Errorf("barrier: %w", err)
	}
	return nil
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
func (r *Raft) Addr() string { return string(r.trans.LocalAddr()) }

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
	if err := waitFuture(ctx, f); err != nil {
		return fmt.Errorf("add voter %s at %s: %w", id, addr, err)
	}
	return nil
}

// RemoveServer removes a server from the configuration; leader only.
func (r *Raft) RemoveServer(ctx context.Context, id string) error {
	f := r.raft.RemoveServer(raft.ServerID(id), 0, timeoutOf(ctx))
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
func (r *Raft) Servers() ([]raft.Server, error) {
	f := r.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("raft configuration: %w", err)
	}
	return f.Configuration().Servers, nil
}

// Stats returns hashicorp/raft's counters (state, term, indexes, peers).
func (r *Raft) Stats() map[string]string { return r.raft.Stats() }

// AppliedIndex is the index of the last entry applied to the local state.
func (r *Raft) AppliedIndex() uint64 { return r.raft.AppliedIndex() }

// Snapshot takes a snapshot now and trims the log behind it.
func (r *Raft) Snapshot() error {
	if err := r.raft.Snapshot().Error(); err != nil {
		return fmt.Errorf("snapshot %s: %w", r.cfg.ID, err)
	}
	return nil
}

// Shutdown stops the server and closes its transport and log. The data
// directory stays, so Open on it resumes where this server stopped.
func (r *Raft) Shutdown() error {
	err := r.raft.Shutdown().Error()
	if cerr := r.closeStores(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("shutdown raft %s: %w", r.cfg.ID, err)
	}
	return nil
}

func (r *Raft) closeStores() error {
	var errs []error
	if r.trans != nil {
		errs = append(errs, r.trans.Close())
	}
	if r.wal != nil {
		errs = append(errs, r.wal.Close())
	}
	if r.meta != nil {
		errs = append(errs, r.meta.Close())
	}
	return errors.Join(errs...)
}
