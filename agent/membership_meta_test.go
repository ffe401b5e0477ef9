package agent

import (
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/hashicorp/memberlist"
)

// Each member's metadata is decoded once, when gossip brings it: members
// lists what was decoded, leaves out a member whose metadata cannot be
// read, and hands out labels a caller may change without changing what
// the next caller sees.
func TestMembersDecodeMetadataOnce(t *testing.T) {
	m := &membership{log: slog.New(slog.NewTextHandler(io.Discard, nil)), changed: make(chan struct{}),
		nodes: map[string]memberlist.Node{}, metas: map[string]nodeMeta{}, failed: map[string]bool{}, peers: map[string]string{}}
	m.record(&memberlist.Node{Name: "good", Addr: net.ParseIP("10.0.0.1"), Meta: []byte(`{"v":1,"api":"10.0.0.1:7080","server":true,"l":{"zone":"a"}}`)}, true)
	m.record(&memberlist.Node{Name: "garbled", Addr: net.ParseIP("10.0.0.2"), Meta: []byte(`{"v":`)}, true)
	got := m.members()
	if len(got) != 1 || got[0].Name != "good" || !got[0].Meta.Server || got[0].Meta.API != "10.0.0.1:7080" {
		t.Fatalf("members %+v, want only good, a server at 10.0.0.1:7080", got)
	}
	got[0].Meta.Labels["zone"] = "changed"
	if again := m.members(); again[0].Meta.Labels["zone"] != "a" {
		t.Fatalf("labels after a caller changed its copy: %v", again[0].Meta.Labels)
	}
	// New metadata replaces the old; a departure forgets it.
	m.record(&memberlist.Node{Name: "good", Addr: net.ParseIP("10.0.0.1"), Meta: []byte(`{"v":1,"api":"10.0.0.1:7080","leaving":true}`)}, true)
	if got := m.members(); got[0].Meta.Server || !got[0].Meta.Leaving {
		t.Fatalf("after an update: %+v, want no longer a server, leaving", got[0].Meta)
	}
	m.record(&memberlist.Node{Name: "good"}, false)
	if got := m.members(); len(got) != 0 || m.failedVerdict("good") {
		t.Fatalf("after it left on purpose: members %+v, failed %v", got, m.failedVerdict("good"))
	}
}
