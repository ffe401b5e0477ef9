package consensus

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/shoal-dev/shoal/api"
)

// Result is what an accepted command produced.
type Result struct {
	// Index is the Raft index the command was applied at.
	Index uint64
	// Pod or Node is a copy of the object as the command left it (nil
	// after a delete, or when the command is about the other kind).
	Pod  *api.Pod
	Node *api.Node
	// Controller is the RC, ReplicaSet or Deployment a controller command left.
	Controller api.Replicated
	// DaemonSet is what a DaemonSet command left (or deleted).
	DaemonSet *api.DaemonSet
	// ControllerRevision is what a ControllerRevision command left (or
	// deleted).
	ControllerRevision *api.ControllerRevision
	// Secret is what a Secret command left (or deleted).
	Secret *api.Secret
	// Event is what an Event command left (or deleted).
	Event *api.Event
	// ConfigMap is what a ConfigMap command left (or deleted).
	ConfigMap *api.ConfigMap
	// ServiceAccount is what a ServiceAccount command left (or deleted).
	ServiceAccount *api.ServiceAccount
	// Service, Endpoints and EndpointSlice are what a command of their
	// kind left (or deleted).
	Service       *api.Service
	Endpoints     *api.Endpoints
	EndpointSlice *api.EndpointSlice
	// Namespace is what a Namespace command left (or deleted).
	Namespace *api.Namespace
	// Job is what a Job command left (or deleted).
	Job *api.Job
	// CronJob is what a CronJob command left (or deleted).
	CronJob *api.CronJob
	// Lease is what a Lease command left (or deleted).
	Lease *api.Lease
	// Changed is false when the command was accepted but left the object
	// as it was (an apply of an unchanged manifest).
	Changed bool
	// Created is true when the command created the object.
	Created bool
	// Each is, for a batch command (CreatePods, BindPods), one answer per
	// item in order: nil when it was applied, else why it was refused.
	Each []error
}

// FSM is the cluster state machine. Raft drives it through Apply, Snapshot
// and Restore; everyone else reads it through the methods that return
// copies, and follows it with WaitIndex.
type FSM struct {
	mu sync.RWMutex
	st *state
	// changed is closed and replaced whenever the index moves, so any
	// number of waiters wake at once without polling.
	changed chan struct{}
	// changes streams what Apply stores or removes: changes.go.
	changes *ChangeStream
}

var _ raft.FSM = (*FSM)(nil)

// NewFSM returns an empty state machine.
func NewFSM() *FSM {
	return &FSM{st: newState(), changed: make(chan struct{}), changes: NewChangeStream(0, 0)}
}

// Apply implements raft.FSM. It returns *Result when the command was
// accepted and an error (NotFoundError, AlreadyExistsError, ConflictError,
// InvalidError, RejectedError) when it was rejected and changed nothing.
func (f *FSM) Apply(l *raft.Log) any {
	cmd, err := DecodeCommand(l.Data)
	if err != nil {
		// A command this binary cannot read still advances the index so
		// that every server stays at the same position.
		f.mu.Lock()
		f.advanceLocked(l.Index)
		f.mu.Unlock()
		return &RejectedError{Reason: err.Error()}
	}
	res, err := f.apply(l.Index, cmd)
	if err != nil {
		return err
	}
	return res
}

func (f *FSM) apply(index uint64, cmd Command) (*Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.advanceLocked(index)
	defer f.publishLocked(index)
	return f.st.apply(index, cmd)
}

func (f *FSM) advanceLocked(index uint64) {
	if index > f.st.Index {
		f.st.Index = index
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

// Index is the Raft index of the last command applied to this state.
func (f *FSM) Index() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.Index
}

// WaitIndex blocks until the state's index is greater than after and
// returns it, or returns the context's error.
func (f *FSM) WaitIndex(ctx context.Context, after uint64) (uint64, error) {
	for {
		f.mu.RLock()
		idx, ch := f.st.Index, f.changed
		f.mu.RUnlock()
		if idx > after {
			return idx, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return idx, fmt.Errorf("wait for index > %d: %w", after, ctx.Err())
		}
	}
}

// Snapshot implements raft.FSM: the whole state as JSON. It is serialised
// here, while Raft holds off Apply, so Persist can write it out while new
// commands are applied.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	data, err := json.Marshal(f.st)
	if err != nil {
		return nil, fmt.Errorf("snapshot state at index %d: %w", f.st.Index, err)
	}
	return &snapshot{data: data}, nil
}

// decodeState reads a state written by Snapshot and rebuilds its derived
// indexes.
func decodeState(r io.Reader) (*state, error) {
	st := newState()
	if err := json.NewDecoder(r).Decode(st); err != nil {
		return nil, err
	}
	if st.Nodes == nil {
		st.Nodes = map[string]*api.Node{}
	}
	if st.Pods == nil {
		st.Pods = map[string]*api.Pod{}
	}
	st.reindex()
	return st, nil
}

// Restore implements raft.FSM: the snapshot replaces the whole state.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	st, err := decodeState(rc)
	if err != nil {
		return fmt.Errorf("restore state: %w", err)
	}
	objects, err := st.allObjects()
	if err != nil {
		return fmt.Errorf("restore state: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	st.ix.continuePodsGen(f.st.ix.podsGen) // node_pods_gen.go
	f.st = st
	f.changes.reset(st.Index, objects)
	close(f.changed)
	f.changed = make(chan struct{})
	return nil
}

type snapshot struct{ data []byte }

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s.data); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("persist snapshot: %w", err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("close snapshot: %w", err)
	}
	return nil
}

func (s *snapshot) Release() {}
