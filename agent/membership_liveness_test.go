package agent

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

// A client's evidence of contact is a server's answer now, not gossip's
// belief: once the server stops answering, pingServer says so at once,
// while gossip still lists it alive. And the leader tells a member that
// left on purpose from one gossip declared failed (agent/liveness credits
// only a failure's silence).
func TestPingServerAndVerdicts(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func(name string, server bool) (*membership, Config) {
		cfg := DefaultConfig()
		cfg.Name, cfg.BindAddr, cfg.GossipPort = name, "127.0.0.1", freeGossipPort(t)
		m, err := newMembership(cfg, nodeMeta{V: 1, API: "127.0.0.1:1", Server: server}, log)
		if err != nil {
			t.Fatal(err)
		}
		return m, cfg
	}
	client, ccfg := start("client", false)
	t.Cleanup(func() { client.leave(time.Second) })
	if client.pingServer("client") {
		t.Fatal("a client that knows no server reported an answer")
	}
	server, _ := start("server", true)
	leaver, _ := start("leaver", false)
	seed := []string{hostPort("127.0.0.1", ccfg.GossipPort)}
	for _, m := range []*membership{server, leaver} {
		if err := m.join(seed); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the client sees both", func() bool { return len(client.members()) == 3 })
	if !client.pingServer("client") {
		t.Fatal("a live server did not answer")
	}

	// The server stops answering without a word (its process hangs or
	// its network is cut): gossip still lists it for a while.
	if err := server.list.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if client.pingServer("client") {
		t.Fatal("a server that no longer answers counted as contact")
	}
	leaver.leave(time.Second)
	eventually(t, "gossip declares the server failed", func() bool { return client.failedVerdict("server") })
	eventually(t, "gossip sees the leaver go", func() bool { return len(client.members()) == 1 })
	if client.failedVerdict("leaver") {
		t.Error("an agent that left on purpose counted as failed")
	}
}
