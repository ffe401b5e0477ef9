package agent

import (
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// A client's evidence of contact is a server's answer now, not gossip's
// belief: once the server stops answering, pingServer says so at once,
// while gossip still lists it alive. And the leader tells a member that
// left on purpose from one gossip declared failed (agent/liveness credits
// only a failure's silence).
func TestPingServerAndVerdicts(t *testing.T) {
	start := func(name string, server bool) (*membership, Config) { return startMember(t, name, server) }
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

// An agent whose gossip profile or grace differs from the fleet's is
// refused on both sides with real memberlist: its join fails naming both
// settings, the fleet's member logs the refusal once and never lists it,
// and one with the same settings (given explicitly or by default) joins.
func TestMismatchedLivenessIsRefused(t *testing.T) {
	var buf syncBuffer
	start := func(name, profile string, grace time.Duration, log *slog.Logger) (*membership, Config) {
		cfg := DefaultConfig()
		cfg.Name, cfg.BindAddr, cfg.GossipPort, cfg.GossipProfile, cfg.NodeGrace = name, "127.0.0.1", freePort(t), profile, grace
		m, err := newMembership(cfg, nodeMeta{V: 1, API: "127.0.0.1:1", Liveness: cfg.livenessSignature()}, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.leave(time.Second) })
		return m, cfg
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, acfg := start("a", "lan", 0, slog.New(slog.NewTextHandler(&buf, nil)))
	seed := []string{hostPort("127.0.0.1", acfg.GossipPort)}
	same, _ := start("same", "", 0, quiet)
	if err := same.join(seed); err != nil {
		t.Fatalf("an agent with the fleet's settings was refused: %v", err)
	}
	eventually(t, "a sees the agent with the same settings", func() bool { return len(a.members()) == 2 })

	for _, c := range []struct {
		name, profile string
		grace         time.Duration
		sig           string
	}{
		{"wan", "wan", 0, "wan/10s"},
		{"longgrace", "lan", 3 * time.Second, "lan/3s"},
	} {
		m, _ := start(c.name, c.profile, c.grace, quiet)
		err := m.join(seed)
		if err == nil {
			t.Fatalf("%s: an agent running %s joined a lan/2s fleet", c.name, c.sig)
		}
		if want := `runs gossip profile/node grace lan/2s, this agent ` + c.sig; !strings.Contains(err.Error(), want) {
			t.Errorf("%s: join error does not name both settings (want %q):\n%v", c.name, want, err)
		}
		want := "node=" + c.name + " its=" + c.sig + " ours=lan/2s"
		eventually(t, c.name+"'s refusal logged by the fleet", func() bool { return strings.Contains(buf.String(), want) })
		if n := len(m.members()); n > 1 {
			t.Errorf("%s: the refused agent lists %d members, want only itself", c.name, n)
		}
	}
	for _, mem := range a.members() {
		if mem.Name != "a" && mem.Name != "same" {
			t.Errorf("the fleet lists refused member %s", mem.Name)
		}
	}
	if n := strings.Count(buf.String(), `node=wan `); n != 1 {
		t.Errorf("the refusal of wan logged %d times, want once:\n%s", n, buf.String())
	}

	// A member can also reach this agent second-hand, in gossip's alive
	// messages rather than by a join: the AliveDelegate refuses it too.
	meta, err := json.Marshal(nodeMeta{V: 1, API: "127.0.0.1:1", Liveness: "wan/10s"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.NotifyAlive(&memberlist.Node{Name: "wan2", Meta: meta}); err == nil {
		t.Error("an alive message of a member on the WAN profile was let through")
	}
	// A join's member list refuses a live member that differs, not one
	// gossip holds dead (its settings may be from before a change).
	if err := a.NotifyMerge([]*memberlist.Node{{Name: "wan3", Meta: meta, State: memberlist.StateAlive}}); err == nil {
		t.Error("a join whose list holds a live member on the WAN profile was let through")
	}
	if err := a.NotifyMerge([]*memberlist.Node{{Name: "wan4", Meta: meta, State: memberlist.StateDead}}); err != nil {
		t.Errorf("a join was refused for a member its list holds dead: %v", err)
	}
	same2, err := json.Marshal(nodeMeta{V: 1, API: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.NotifyAlive(&memberlist.Node{Name: "same2", Meta: same2}); err != nil {
		t.Errorf("an alive message with the fleet's settings was refused: %v", err)
	}
}

// startMember runs a gossip member alone on loopback, as a server or a
// client; the test leaves or kills it.
func startMember(t *testing.T, name string, server bool) (*membership, Config) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Name, cfg.BindAddr, cfg.GossipPort = name, "127.0.0.1", freePort(t)
	m, err := newMembership(cfg, nodeMeta{V: 1, API: "127.0.0.1:1", Server: server}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return m, cfg
}
