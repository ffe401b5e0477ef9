package consensus

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// This file is the in-memory twin of a fleet's Raft servers, for unit
// tests here and in the packages that drive consensus: hashicorp/raft's
// in-memory transport, log, stable and snapshot stores under the same
// Open the fleet runs, so a three-seat cluster elects in milliseconds.

// TB is the part of testing.TB the test cluster uses (so this package does
// not import testing).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Cleanup(func())
}

// InmemConfig is a server's Config with timings for the in-memory
// transport, where a round trip takes microseconds. hashicorp/raft's own
// tests use 50ms; under -race on a busy two-core machine that loses
// leaders to scheduling pauses, so these are a few times longer and an
// election still takes well under a second.
func InmemConfig(id string, log *slog.Logger) Config {
	return Config{
		ID:                 id,
		Log:                log,
		HeartbeatTimeout:   200 * time.Millisecond,
		ElectionTimeout:    200 * time.Millisecond,
		LeaderLeaseTimeout: 100 * time.Millisecond,
		CommitTimeout:      5 * time.Millisecond,
	}
}

// TestServer is one seat of a TestCluster.
type TestServer struct {
	ID   string
	Addr raft.ServerAddress
	// FSM is the server's state; Raft is nil while the server is stopped.
	FSM  *FSM
	Raft *Raft
	// Gate holds FSM's applies back (WithGates); a restart makes a new one.
	Gate *Gate

	trans *raft.InmemTransport
	logs  *raft.InmemStore
	snaps *raft.InmemSnapshotStore
}

// TestCluster is a set of servers on the in-memory transport.
type TestCluster struct {
	t       TB
	opts    testOptions
	mu      sync.Mutex
	Servers []*TestServer
}

type testOptions struct {
	log           *slog.Logger
	gates         bool
	commitTimeout time.Duration
}

// TestOption changes how NewTestCluster builds its servers.
type TestOption func(*testOptions)

// WithTestLog sends the servers' logs (and hashicorp/raft's, from info
// up) to log.
func WithTestLog(log *slog.Logger) TestOption {
	return func(o *testOptions) { o.log = log }
}

// WithGates puts a Gate in front of each server's FSM (TestServer.Gate),
// for tests that hold a state machine back the way a slow or busy one
// lags behind its log.
func WithGates() TestOption {
	return func(o *testOptions) { o.gates = true }
}

// WithCommitTimeout gives the servers this CommitTimeout instead of the
// in-memory one (5 ms).
func WithCommitTimeout(d time.Duration) TestOption {
	return func(o *testOptions) { o.commitTimeout = d }
}

// NewTestCluster starts n servers named server-a, server-b, ... on the
// in-memory transport, all connected, and bootstraps them together. The
// servers stop when the test ends.
func NewTestCluster(t TB, n int, opts ...TestOption) *TestCluster {
	t.Helper()
	c := &TestCluster{t: t, opts: testOptions{log: slog.New(slog.DiscardHandler)}}
	for _, o := range opts {
		o(&c.opts)
	}
	var members []Server
	for i := range n {
		s := c.AddServer(fmt.Sprintf("server-%c", 'a'+i))
		members = append(members, Server{ID: s.ID, Address: string(s.Addr), Voter: true})
	}
	for _, s := range c.Servers {
		if err := s.Raft.BootstrapIfNew(members); err != nil {
			t.Fatalf("bootstrap %s: %v", s.ID, err)
		}
	}
	return c
}

// AddServer starts one more server with empty stores, connected to every
// other, outside the Raft configuration until a leader adds it.
func (c *TestCluster) AddServer(id string) *TestServer {
	c.t.Helper()
	s := &TestServer{ID: id, logs: raft.NewInmemStore(), snaps: raft.NewInmemSnapshotStore()}
	c.mu.Lock()
	c.Servers = append(c.Servers, s)
	c.mu.Unlock()
	c.Start(s)
	c.t.Cleanup(func() { c.Stop(s) })
	return s
}

// Start opens s over the stores it had (a restart keeps its log, term and
// snapshots, as on disk) with a fresh state machine and transport, and
// connects it to the others.
func (c *TestCluster) Start(s *TestServer) {
	c.t.Helper()
	c.start(s)
	c.Connect(s)
}

// StartDisconnected is Start without the connection: the server comes
// back into a partition, until Connect.
func (c *TestCluster) StartDisconnected(s *TestServer) {
	c.t.Helper()
	c.start(s)
}

func (c *TestCluster) start(s *TestServer) {
	c.t.Helper()
	if s.Raft != nil {
		return
	}
	addr := s.Addr
	if addr == "" {
		addr = raft.ServerAddress(s.ID)
	}
	s.Addr, s.trans = raft.NewInmemTransport(addr)
	s.FSM = NewFSM()
	var sm StateMachine = s.FSM
	if c.opts.gates {
		s.Gate = &Gate{FSM: s.FSM, blocked: make(chan uint64, 64)}
		sm = s.Gate
		// Runs before the server stops: a held apply blocks Shutdown.
		c.t.Cleanup(s.Gate.Release)
	}
	cfg := InmemConfig(s.ID, c.opts.log)
	cfg.RaftLogLevel = slog.LevelInfo
	if c.opts.commitTimeout != 0 {
		cfg.CommitTimeout = c.opts.commitTimeout
	}
	r, err := Open(cfg, sm, Stores{Log: s.logs, Stable: s.logs, Snapshots: s.snaps, Transport: s.trans, Close: s.trans.Close})
	if err != nil {
		c.t.Fatalf("open %s: %v", s.ID, err)
	}
	s.Raft = r
}

// Stop shuts s down, keeping its stores for Start.
func (c *TestCluster) Stop(s *TestServer) {
	c.t.Helper()
	if s.Raft == nil {
		return
	}
	if s.Gate != nil {
		s.Gate.Release()
	}
	c.Disconnect(s)
	if err := s.Raft.Shutdown(); err != nil {
		c.t.Errorf("shutdown %s: %v", s.ID, err)
	}
	s.Raft = nil
}

// Disconnect cuts s off from every other server, both ways: a partition.
func (c *TestCluster) Disconnect(s *TestServer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range c.Servers {
		if o == s || o.trans == nil {
			continue
		}
		o.trans.Disconnect(s.Addr)
		s.trans.Disconnect(o.Addr)
	}
}

// Connect joins s to every other running server, both ways.
func (c *TestCluster) Connect(s *TestServer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range c.Servers {
		if o == s || o.Raft == nil {
			continue
		}
		o.trans.Connect(s.Addr, s.trans)
		s.trans.Connect(o.Addr, o.trans)
	}
}

// Leader waits until exactly one running server leads and returns it. It
// polls: an election has no event to wait on from outside every server.
func (c *TestCluster) Leader() *TestServer {
	c.t.Helper()
	var leaders []*TestServer
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		leaders = leaders[:0]
		c.mu.Lock()
		for _, s := range c.Servers {
			if s.Raft != nil && s.Raft.IsLeader() {
				leaders = append(leaders, s)
			}
		}
		c.mu.Unlock()
		if len(leaders) == 1 {
			return leaders[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.t.Fatalf("no single leader within 10s (%d lead)", len(leaders))
	return nil
}

// Followers are the running servers other than leader.
func (c *TestCluster) Followers(leader *TestServer) []*TestServer {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*TestServer
	for _, s := range c.Servers {
		if s != leader && s.Raft != nil {
			out = append(out, s)
		}
	}
	return out
}

// WaitApplied waits until s's state has applied index.
func (c *TestCluster) WaitApplied(s *TestServer, index uint64) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.FSM.WaitIndex(ctx, index-1); err != nil {
		c.t.Fatalf("%s never applied index %d (at %d): %v", s.ID, index, s.FSM.Index(), err)
	}
}

// HasBarrierAfter reports whether s's log holds a barrier entry of s's
// current term above index: one s wrote while leading that term (with
// Raft.Barrier or a commit nudge), not one an earlier leader's nudge
// replicated to it.
func (s *TestServer) HasBarrierAfter(index uint64) bool {
	last, err := s.logs.LastIndex()
	if err != nil || s.Raft == nil {
		return false
	}
	term := s.Raft.raft.CurrentTerm()
	var l raft.Log
	for i := index + 1; i <= last; i++ {
		if s.logs.GetLog(i, &l) == nil && l.Type == raft.LogBarrier && l.Term == term {
			return true
		}
	}
	return false
}

// Gate holds a state machine back: while held, Apply of a command blocks
// until Release, as a slow or busy state machine lags behind its log.
type Gate struct {
	*FSM
	mu      sync.Mutex
	held    chan struct{}
	blocked chan uint64
}

// Hold makes the next applies wait.
func (g *Gate) Hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held == nil {
		g.held = make(chan struct{})
	}
}

// Release lets every waiting and later apply through.
func (g *Gate) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held != nil {
		close(g.held)
		g.held = nil
	}
}

// Blocked delivers the index of each apply that starts waiting.
func (g *Gate) Blocked() <-chan uint64 { return g.blocked }

// Apply implements raft.FSM.
func (g *Gate) Apply(l *raft.Log) any {
	g.mu.Lock()
	held := g.held
	g.mu.Unlock()
	if held != nil {
		select {
		case g.blocked <- l.Index:
		default:
		}
		<-held
	}
	return g.FSM.Apply(l)
}
