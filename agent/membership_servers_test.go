package agent

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/hashicorp/memberlist"
)

// The client pings the servers in turn, by name; the list follows servers
// joining, leaving and clients promoted, and clients coming and going do
// not make it be listed again.
func TestServerToPingFollowsTheServersOnly(t *testing.T) {
	m := &membership{log: slog.New(slog.NewTextHandler(io.Discard, nil)), changed: make(chan struct{}),
		nodes: map[string]memberlist.Node{}, metas: map[string]nodeMeta{}, failed: map[string]bool{}, peers: map[string]string{}, livenessSeen: map[string]string{}}
	node := func(name string, server bool) *memberlist.Node {
		meta := fmt.Sprintf(`{"v":1,"api":"x","server":%v}`, server)
		return &memberlist.Node{Name: name, Addr: net.IPv4(10, 0, 0, 1), Port: 7946, Meta: []byte(meta)}
	}
	for _, s := range []string{"s3", "s1", "s2"} {
		m.record(node(s, true), true)
	}
	m.record(node("me", false), true)
	turns := func(k int) []string {
		var out []string
		for range k {
			n, ok := m.serverToPing("me")
			if !ok {
				out = append(out, "-")
				continue
			}
			out = append(out, n.Name)
		}
		return out
	}
	// Every server once in three turns, in name order from some start.
	got := fmt.Sprint(turns(6))
	if got != "[s2 s3 s1 s2 s3 s1]" && got != "[s1 s2 s3 s1 s2 s3]" && got != "[s3 s1 s2 s3 s1 s2]" {
		t.Fatalf("turns %s", got)
	}
	list := m.servers
	for i := range 200 {
		m.record(node(fmt.Sprintf("c%03d", i), false), true)
	}
	m.record(node("c007", false), false)
	turns(1)
	if &m.servers[0] != &list[0] {
		t.Error("clients joining and leaving had the servers listed again")
	}
	m.record(node("s2", true), false) // s2 failed
	if got := fmt.Sprint(turns(4)); got != "[s1 s3 s1 s3]" && got != "[s3 s1 s3 s1]" {
		t.Errorf("after s2 left: turns %s", got)
	}
	m.record(node("c010", true), true) // a client promoted to a seat
	seen := map[string]bool{}
	for _, n := range turns(3) {
		seen[n] = true
	}
	if !seen["c010"] || !seen["s1"] || !seen["s3"] || len(seen) != 3 {
		t.Errorf("after c010 was promoted: pinged %v", seen)
	}
	m.record(node("c010", false), true) // and demoted
	for _, n := range turns(4) {
		if n == "c010" {
			t.Error("a demoted server is still pinged")
		}
	}
}
