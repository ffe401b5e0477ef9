package agent

import (
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/hashicorp/memberlist"
)

// The API's view of the members is built once per gossip change: the
// same slice until a member joins, changes or leaves, then one that says
// so.
func TestMembersViewIsRebuiltOnlyOnAChange(t *testing.T) {
	m := &membership{log: slog.New(slog.NewTextHandler(io.Discard, nil)), changed: make(chan struct{}),
		nodes: map[string]memberlist.Node{}, metas: map[string]nodeMeta{}, failed: map[string]bool{}, peers: map[string]string{}, livenessSeen: map[string]string{}}
	join := func(name, ip, meta string) *memberlist.Node {
		n := &memberlist.Node{Name: name, Addr: net.ParseIP(ip), Port: 7946, Meta: []byte(meta), State: memberlist.StateAlive}
		m.NotifyJoin(n)
		return n
	}
	join("b", "10.0.0.2", `{"v":1,"api":"10.0.0.2:8080"}`)
	join("a", "10.0.0.1", `{"v":1,"api":"10.0.0.1:8080","server":true}`)
	var v membersView
	first := v.get(m)
	if len(first) != 2 || first[0].Name != "a" || !first[0].Server || first[0].API != "10.0.0.1:8080" || first[1].Name != "b" || first[1].Server || !first[1].Alive {
		t.Fatalf("view %+v", first)
	}
	// The metadata is kept once, decoded; not also as the bytes gossip
	// brought (every agent of a sim holds every member).
	if raw := m.nodes["a"].Meta; raw != nil {
		t.Errorf("member a's metadata kept as %d raw bytes beside the decoded copy", len(raw))
	}
	if again := v.get(m); &again[0] != &first[0] {
		t.Error("the view was rebuilt without a change")
	}
	c := join("c", "10.0.0.3", `{"v":1,"api":"10.0.0.3:8080"}`)
	if got := v.get(m); len(got) != 3 || got[2].Name != "c" {
		t.Fatalf("after a join: %+v", got)
	}
	c.Meta = []byte(`{"v":1,"api":"10.0.0.3:9090","server":true}`)
	m.NotifyUpdate(c)
	if got := v.get(m); got[2].API != "10.0.0.3:9090" || !got[2].Server {
		t.Fatalf("after an update: %+v", got[2])
	}
	m.NotifyLeave(c)
	if got := v.get(m); len(got) != 2 {
		t.Fatalf("after a leave: %+v", got)
	}
}
