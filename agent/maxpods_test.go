package agent

import (
	"strings"
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
		n := nodeFromMember(member{Name: "n1", Meta: nodeMeta{Pods: c.meta}})
		q := n.Status.Allocatable[api.ResourcePods]
		if q.Value() != c.want {
			t.Errorf("meta pods %d: allocatable pods %s, want %d", c.meta, q.String(), c.want)
		}
	}
}

func TestValidateMaxPods(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Name, cfg.BindAddr, cfg.DataDir, cfg.MaxPods = "n1", "127.0.0.1", t.TempDir(), -1
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "max-pods -1") {
		t.Fatalf("Validate with max-pods -1: %v", err)
	}
}
