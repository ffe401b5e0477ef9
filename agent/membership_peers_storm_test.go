package agent

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// A join storm of n members is written once (or a few times), not n
// times over, and a stop writes what is still due and nothing later.
func TestGossipPeersOfAJoinStormAreWrittenTogether(t *testing.T) {
	dir := t.TempDir()
	m := &membership{log: slog.New(slog.NewTextHandler(io.Discard, nil)), nodes: map[string]memberlist.Node{}, metas: map[string]nodeMeta{}, failed: map[string]bool{},
		self: "h0000", peers: map[string]string{}, peersFile: dir + "/" + peersFileName}
	const n = 300
	for i := 1; i <= n; i++ {
		m.record(&memberlist.Node{Name: fmt.Sprintf("h%04d", i), Addr: net.IPv4(127, 77, byte(i/250), byte(1+i%250)), Port: 17946, Meta: []byte(`{"v":1}`)}, true)
	}
	for deadline := time.Now().Add(10 * time.Second); len(rememberedPeers(dir)) < n && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := len(rememberedPeers(dir)); got != n {
		t.Fatalf("remembered %d peers, want %d", got, n)
	}
	m.peersWriting.Lock()
	writes := m.peersWrites
	m.peersWriting.Unlock()
	// One write gathers the storm; a second only if the test stalled
	// past the delay midway.
	if writes < 1 || writes > 2 {
		t.Errorf("%d joins wrote the peers file %d times, want once", n, writes)
	}

	// A member still due at the stop is written by it; one after is not.
	m.record(&memberlist.Node{Name: "late", Addr: net.IPv4(127, 78, 0, 1), Port: 17946, Meta: []byte(`{"v":1}`)}, true)
	m.stopRemembering()
	if got := len(rememberedPeers(dir)); got != n+1 {
		t.Fatalf("after the stop: %d peers remembered, want %d", got, n+1)
	}
	m.record(&memberlist.Node{Name: "after", Addr: net.IPv4(127, 78, 0, 2), Port: 17946, Meta: []byte(`{"v":1}`)}, true)
	m.mu.Lock()
	due := m.peersDue
	m.mu.Unlock()
	if due {
		t.Error("a member recorded after the stop is due to be written")
	}
	if got := len(rememberedPeers(dir)); got != n+1 {
		t.Errorf("a member recorded after the stop was written: %d peers", got)
	}
}
