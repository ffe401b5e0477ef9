package agent

import (
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// A client's evidence of contact includes gossip's own probes of a
// server, as acked (issue 30: it then skips the fence loop's ping),
// timed from when the probe was sent; a client's acks are no evidence.
func TestGossipProbesOfAServerAreEvidence(t *testing.T) {
	start := func(name string, server bool) (*membership, Config) {
		m, cfg := startMember(t, name, server)
		t.Cleanup(func() { m.leave(time.Second) })
		return m, cfg
	}
	client, ccfg := start("client", false)
	other, _ := start("other", false)
	server, _ := start("server", true)
	seed := []string{hostPort("127.0.0.1", ccfg.GossipPort)}
	for _, m := range []*membership{other, server} {
		if err := m.join(seed); err != nil {
			t.Fatal(err)
		}
	}
	before := time.Now()
	eventually(t, "a server acks one of the client's probes", func() bool { return !client.serverAnswered().IsZero() })
	if at := client.serverAnswered(); at.After(time.Now()) || at.Before(before.Add(-time.Second)) {
		t.Fatalf("server's ack recorded at %v, want the probe's time, after %v", at, before)
	}

	// memberlist's callback, by hand: the time is the probe's.
	m := &membership{metas: map[string]nodeMeta{"s": {Server: true}, "c": {}}}
	m.NotifyPingComplete(&memberlist.Node{Name: "c"}, time.Millisecond, nil)
	if !m.serverAnswered().IsZero() {
		t.Fatal("a client's ack counted as a server's answer")
	}
	m.NotifyPingComplete(&memberlist.Node{Name: "s"}, 300*time.Millisecond, nil)
	if at := m.serverAnswered(); at.IsZero() || time.Since(at) < 300*time.Millisecond {
		t.Fatalf("a server's ack recorded at %v, want when its probe was sent, 300 ms before the ack", at)
	}
}
