package consensus

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The leader replaces a lost server the way the agent will: remove it from
// the configuration, add a fresh one, which catches up on the whole state.
func TestReplaceServerWithAFreshOne(t *testing.T) {
	servers := startCluster(t, 3)
	leader := waitLeader(t, servers)
	res := applyOK(t, leader.raft, node("node-a", "2Gi", "192.168.50.2"))

	lost := followers(servers, leader)[0]
	lost.stop(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := leader.raft.RemoveServer(ctx, lost.id); err != nil {
		t.Fatal(err)
	}

	fresh := &server{id: "server-d", dir: t.TempDir()}
	fresh.open(t)
	t.Cleanup(func() { fresh.stop(t) })
	if err := leader.raft.AddVoter(ctx, fresh.id, fresh.addr); err != nil {
		t.Fatal(err)
	}
	waitIndex(t, fresh, res.Index)
	if _, err := fresh.fsm.Node("node-a"); err != nil {
		t.Fatalf("fresh server did not catch up: %v", err)
	}
	got, err := leader.raft.Servers()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, s := range got {
		ids[string(s.ID)] = true
	}
	if len(got) != 3 || ids[lost.id] || !ids[fresh.id] {
		t.Fatalf("configuration after replacement: %v", got)
	}
}

// BenchmarkApply3Servers measures committed commands per second through a
// 3-server cluster on loopback with fsync'ed raft-wal logs.
func BenchmarkApply3Servers(b *testing.B) {
	servers := startCluster(b, 3)
	leader := waitLeader(b, servers)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := leader.raft.Apply(ctx, create(fmt.Sprintf("pod-%d", i), "1Mi")); err != nil {
			b.Fatal(err)
		}
	}
}
