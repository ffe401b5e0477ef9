package consensus

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// server is one member of a test cluster: its state machine, its Raft, and
// what it needs to come back after a restart.
type server struct {
	id, dir, addr string
	fsm           *FSM
	raft          *Raft
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func (s *server) open(t testing.TB) {
	t.Helper()
	bind := s.addr
	if bind == "" {
		bind = "127.0.0.1:0"
	}
	s.fsm = NewFSM()
	r, err := OpenOnDisk(loopbackTimings(Config{ID: s.id, DataDir: s.dir, BindAddr: bind, Log: testLogger(), RaftLogLevel: slog.LevelInfo}), s.fsm)
	if err != nil {
		t.Fatalf("open %s: %v", s.id, err)
	}
	s.raft = r
	s.addr = r.Addr()
}

// loopbackTimings shortens elections for servers on loopback: the tests
// check the disk and TCP path, not the fleet's timings, and the first
// election otherwise costs a second per test.
func loopbackTimings(c Config) Config {
	c.HeartbeatTimeout, c.ElectionTimeout = 200*time.Millisecond, 200*time.Millisecond
	c.LeaderLeaseTimeout = 100 * time.Millisecond
	return c
}

func (s *server) stop(t testing.TB) {
	t.Helper()
	if s.raft == nil {
		return
	}
	if err := s.raft.Shutdown(); err != nil {
		t.Errorf("shutdown %s: %v", s.id, err)
	}
	s.raft = nil
}

// startCluster opens n servers on loopback with real TCP and persistent
// stores in temporary directories, and bootstraps them together.
func startCluster(t testing.TB, n int) []*server {
	t.Helper()
	servers := make([]*server, n)
	for i := range servers {
		servers[i] = &server{id: "server-" + string(rune('a'+i)), dir: t.TempDir()}
		servers[i].open(t)
		s := servers[i]
		t.Cleanup(func() { s.stop(t) })
	}
	var members []Server
	for _, s := range servers {
		members = append(members, Server{ID: s.id, Address: s.addr, Voter: true})
	}
	for _, s := range servers {
		if err := s.raft.BootstrapIfNew(members); err != nil {
			t.Fatalf("bootstrap %s: %v", s.id, err)
		}
	}
	return servers
}

// waitLeader polls (the election has no event to wait on from outside
// every server at once) until exactly one running server leads.
func waitLeader(t testing.TB, servers []*server) *server {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var leaders []*server
		for _, s := range servers {
			if s.raft != nil && s.raft.IsLeader() {
				leaders = append(leaders, s)
			}
		}
		if len(leaders) == 1 {
			return leaders[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no leader elected within 15s")
	return nil
}

func waitIndex(t testing.TB, s *server, index uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.fsm.WaitIndex(ctx, index-1); err != nil {
		t.Fatalf("%s never reached index %d (at %d): %v", s.id, index, s.fsm.Index(), err)
	}
}

func applyOK(t testing.TB, r *Raft, cmd Command) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := r.Apply(ctx, cmd)
	if err != nil {
		t.Fatalf("apply %s: %v", cmd.Type(), err)
	}
	return res
}

func followers(servers []*server, leader *server) []*server {
	var out []*server
	for _, s := range servers {
		if s != leader {
			out = append(out, s)
		}
	}
	return out
}

// The fleet's path: raft-wal and file snapshots on disk, TCP on loopback.
// A follower snapshots, stops, misses an entry and comes back with all of
// it. The in-memory twin covers the rest (raft_inmem_test.go).
func TestRestartedServerKeepsStateFromSnapshotAndLog(t *testing.T) {
	servers := startCluster(t, 3)
	leader := waitLeader(t, servers)
	victim := followers(servers, leader)[0]

	applyOK(t, leader.raft, node("node-a", "2Gi", "192.168.50.2"))
	res := applyOK(t, leader.raft, create("before-snapshot", "10Mi"))
	waitIndex(t, victim, res.Index)
	if err := victim.raft.Snapshot(); err != nil {
		t.Fatal(err)
	}
	snapIndex := victim.fsm.Index()
	if snaps, _ := filepath.Glob(filepath.Join(victim.dir, "raft", "snapshots", "*", "state.bin")); len(snaps) == 0 {
		t.Fatal("no snapshot on disk after Snapshot()")
	}
	res = applyOK(t, leader.raft, create("after-snapshot", "10Mi"))
	waitIndex(t, victim, res.Index)

	victim.stop(t)
	res = applyOK(t, leader.raft, create("while-down", "10Mi"))

	victim.open(t)
	// The snapshot is restored while Open runs, before any peer speaks.
	if victim.fsm.Index() < snapIndex {
		t.Fatalf("restarted at index %d, snapshot was at %d", victim.fsm.Index(), snapIndex)
	}
	// Caught up (read from raft-wal's log) means the state holds at least
	// the log the server had when it stopped, which it replays only once
	// the leader tells it what is committed.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		ok := victim.raft.CaughtUp(ctx)
		cancel()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted %s never caught up (state at %d)", victim.id, victim.fsm.Index())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := victim.fsm.Pod("default", "after-snapshot"); err != nil {
		t.Fatalf("caught up at index %d without the entry its log held: %v", victim.fsm.Index(), err)
	}
	waitIndex(t, victim, res.Index)
	for _, name := range []string{"before-snapshot", "after-snapshot", "while-down"} {
		if _, err := victim.fsm.Pod("default", name); err != nil {
			t.Fatalf("restarted %s lost pod %s: %v", victim.id, name, err)
		}
	}
}

func TestConfigValidateNamesTheField(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{DataDir: "/x", BindAddr: "127.0.0.1:1"}, "ID: required"},
		{Config{ID: "a", BindAddr: "127.0.0.1:1"}, "DataDir: required"},
		{Config{ID: "a", DataDir: "/x", BindAddr: "nonsense"}, "BindAddr \"nonsense\""},
		{Config{ID: "a", DataDir: "/x", BindAddr: "0.0.0.0:7000"}, "AdvertiseAddr: required"},
		{Config{ID: "a", DataDir: "/x", BindAddr: "0.0.0.0:7000", AdvertiseAddr: "0.0.0.0:7000"}, "unspecified"},
		{Config{ID: "a", DataDir: "/x", BindAddr: "127.0.0.1:1", HeartbeatTimeout: time.Second, LeaderLeaseTimeout: 2 * time.Second}, "LeaderLeaseTimeout"},
	}
	for _, tc := range tests {
		err := tc.cfg.withDefaults().ValidateOnDisk()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want mention of %q", tc.cfg, err, tc.want)
		}
	}
	ok := Config{ID: "a", DataDir: "/x", BindAddr: "0.0.0.0:7000", AdvertiseAddr: "10.0.0.1:7000"}
	if err := ok.withDefaults().ValidateOnDisk(); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
}
