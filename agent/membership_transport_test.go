package agent

import (
	"io"
	"log/slog"
	"testing"

	"github.com/hashicorp/memberlist"
)

// TestRealGossipGetsTheCopyingTransport: a real agent's gossip runs on the
// transport that copies each packet at its size, and a transport already
// given (the sim's) is kept.
func TestRealGossipGetsTheCopyingTransport(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mc := memberlist.DefaultLANConfig()
	mc.BindAddr, mc.BindPort = "127.0.0.1", 0
	if err := gossipTransportFor(mc, log); err != nil {
		t.Fatal(err)
	}
	tr, ok := mc.Transport.(*copyingTransport)
	if !ok {
		t.Fatalf("transport %T, want the copying one", mc.Transport)
	}
	t.Cleanup(func() { _ = tr.Shutdown() })
	if mc.AdvertisePort != portOf(t, tr) {
		t.Errorf("advertised port %d, listening on %d", mc.AdvertisePort, portOf(t, tr))
	}
	given := memberlist.DefaultLANConfig()
	given.Transport = tr
	if err := gossipTransportFor(given, log); err != nil {
		t.Fatal(err)
	}
	if given.Transport != tr {
		t.Errorf("a given transport was replaced by %T", given.Transport)
	}
}
