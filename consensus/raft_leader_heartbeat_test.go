package consensus

import (
	"fmt"
	"log/slog"
	"testing"
	"time"
)

// TestOnlyTheLeaderRunsTheLeaderHeartbeatTimeout: the leader runs
// LeaderHeartbeatTimeout (its heartbeats come a tenth of it apart) and
// every follower HeartbeatTimeout (its election timer), also after
// leadership moved: the new leader takes the longer one, the old one goes
// back to the followers'.
func TestOnlyTheLeaderRunsTheLeaderHeartbeatTimeout(t *testing.T) {
	const follower, leader = 200 * time.Millisecond, 400 * time.Millisecond
	servers := make([]*server, 3)
	var members []Server
	for i := range servers {
		s := &server{id: fmt.Sprintf("server-%c", 'a'+i), dir: t.TempDir()}
		cfg := loopbackTimings(Config{ID: s.id, DataDir: s.dir, BindAddr: "127.0.0.1:0", Log: testLogger(), RaftLogLevel: slog.LevelInfo})
		cfg.LeaderHeartbeatTimeout = leader
		r, err := OpenOnDisk(cfg, NewFSM())
		if err != nil {
			t.Fatal(err)
		}
		s.raft, s.addr = r, r.Addr()
		servers[i] = s
		t.Cleanup(func() { s.stop(t) })
		members = append(members, Server{ID: s.id, Address: s.addr, Voter: true})
	}
	for _, s := range servers {
		if err := s.raft.BootstrapIfNew(members); err != nil {
			t.Fatal(err)
		}
	}
	first := waitLeader(t, servers)
	waitHeartbeats(t, servers, first, leader, follower)
	if err := first.raft.raft.LeadershipTransfer().Error(); err != nil {
		t.Fatalf("leadership transfer: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	second := waitLeader(t, servers)
	for second == first && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		second = waitLeader(t, servers)
	}
	if second == first {
		t.Fatalf("%s still leads after the transfer", first.id)
	}
	waitHeartbeats(t, servers, second, leader, follower)
}

// waitHeartbeats polls (a role change reaches the setting through an
// observer, with no event to wait on from outside) until the leader runs
// leaderTimeout and every other server followerTimeout.
func waitHeartbeats(t *testing.T, servers []*server, lead *server, leaderTimeout, followerTimeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var wrong []string
		for _, s := range servers {
			want := followerTimeout
			if s == lead {
				want = leaderTimeout
			}
			if got := s.raft.HeartbeatTimeout(); got != want {
				wrong = append(wrong, fmt.Sprintf("%s runs %v, want %v", s.id, got, want))
			}
		}
		if len(wrong) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("leader %s: %v", lead.id, wrong)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
