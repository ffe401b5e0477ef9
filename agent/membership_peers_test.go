package agent

import (
	"io"
	"log/slog"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// The members an agent saw are remembered in its data directory, and a
// restart joins through them after --join.
func TestGossipPeersAreRememberedForARestart(t *testing.T) {
	dir := t.TempDir()
	m := &membership{log: slog.New(slog.NewTextHandler(io.Discard, nil)), nodes: map[string]memberlist.Node{}, failed: map[string]bool{},
		self: "n1", peers: map[string]string{}, peersFile: dir + "/" + peersFileName}
	for _, n := range []memberlist.Node{
		{Name: "n1", Addr: net.ParseIP("10.250.0.11"), Port: 7946}, // itself: not remembered
		{Name: "n2", Addr: net.ParseIP("10.250.0.12"), Port: 7946},
		{Name: "n3", Addr: net.ParseIP("10.250.0.13"), Port: 7946},
	} {
		m.record(&n, true)
	}
	want := []string{"10.250.0.12:7946", "10.250.0.13:7946"}
	var got []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got = rememberedPeers(dir); reflect.DeepEqual(got, want) || time.Now().After(deadline) {
			break
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("remembered %v, want %v", got, want)
	}
	if j := joinAddrs([]string{"10.250.0.13:7946", "10.250.0.99:7946"}, got); !reflect.DeepEqual(j, []string{"10.250.0.13:7946", "10.250.0.99:7946", "10.250.0.12:7946"}) {
		t.Fatalf("join addresses %v", j)
	}
	if rememberedPeers(t.TempDir()) != nil || rememberedPeers("") != nil {
		t.Fatal("a fresh data directory remembers peers")
	}
}
