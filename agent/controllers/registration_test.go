package controllers

import (
	"testing"

	"github.com/shoal-dev/shoal/api"
)

// --max-pods travels in gossip and becomes the node's pod capacity, which
// placement counts; without it a node takes the kubelet's 110.
func TestNodeFromMemberMaxPods(t *testing.T) {
	for _, c := range []struct {
		meta int
		want int64
	}{{0, DefaultMaxPods}, {250, 250}} {
		n := nodeFromMember(Member{Name: "n1", Pods: c.meta}, "v")
		q := n.Status.Allocatable[api.ResourcePods]
		if q.Value() != c.want {
			t.Errorf("meta pods %d: allocatable pods %s, want %d", c.meta, q.String(), c.want)
		}
	}
}
