package node

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

// gatedSource is a fleet that does not answer until open is closed, then
// answers view once and holds every later query, as an idle state does.
type gatedSource struct {
	open chan struct{}
	view *Assignments
}

func (s *gatedSource) Assignments(ctx context.Context, after uint64, wait time.Duration) (*Assignments, error) {
	select {
	case <-s.open:
	default:
		return nil, errors.New("dial tcp 10.0.0.1:7081: connection refused")
	}
	if after < s.view.Index {
		return s.view, nil
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// Seed 2 of `shoal lab chaos` (docs/chaos.md): an agent restarted while
// out of contact keeps the pods of the view it saved, and its node may
// still hold the namespace of a pod the fleet removed meanwhile, whose IP
// a pod of that view was given. The cut-off node must not wire the new
// pod beside the old namespace (the network refuses, as netplane.Plane
// does), and the refusal must not strand it: once the fleet answers, the
// pass removes the old pod and wires the new one.
func TestRestartedAgentWiresAReusedIPOnceTheOldNamespaceIsGone(t *testing.T) {
	const ip = "10.244.1.2"
	newPod := api.Pod{ObjectMeta: api.ObjectMeta{Name: "new", Namespace: "default", UID: "new", ResourceVersion: "5"},
		Spec:   api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "app"}}},
		Status: api.PodStatus{PodIP: ip, Phase: api.PodPending}}
	path := filepath.Join(t.TempDir(), "node", "view.json")
	if err := saveView(path, []api.Pod{newPod}, time.Now()); err != nil {
		t.Fatal(err)
	}
	// What the killed agent left: the removed pod's containers and its
	// namespace, which holds the IP.
	rt := newMemRuntime("old")
	netw := &memNetwork{pods: map[string]net.IP{podNetID("old"): net.ParseIP(ip)}}
	src := &gatedSource{open: make(chan struct{}), view: &Assignments{Index: 7, Pods: []api.Pod{newPod}}}
	fence := NewFencer(FenceConfig{Liveness: liveness.WithGrace(time.Second), ViewFile: path, Log: slog.New(slog.DiscardHandler)}, &fleetAt{})
	r, err := New(Config{Name: "n1", Resync: time.Minute}, Deps{Assignments: src, Status: &statusLog{}, Runtime: rt, Network: netw, Fence: fence})
	if err != nil {
		t.Fatal(err)
	}
	runUntilTestEnds(t, fence.Run, r.Run)

	// holders names the pod networks holding ip, and whether a wiring of
	// one was refused.
	holders := func() (ids []string, refused bool) {
		netw.mu.Lock()
		defer netw.mu.Unlock()
		for id, held := range netw.pods {
			if held.Equal(net.ParseIP(ip)) {
				ids = append(ids, id)
			}
		}
		return ids, netw.conflicts > 0
	}
	if !eventually(10*time.Second, func() bool { ids, refused := holders(); return refused || len(ids) > 1 }) {
		t.Fatal("the cut-off node never tried to keep the pod of its saved view")
	}
	if ids, _ := holders(); len(ids) != 1 {
		t.Fatalf("while cut off the node wired the pod of its saved view beside the removed pod's network: %v all hold %s", ids, ip)
	}
	if rt.has("new") || !rt.has("old") {
		t.Fatal("while cut off the node started the pod it could not wire, or removed one")
	}

	close(src.open)
	if !eventually(10*time.Second, func() bool {
		netw.mu.Lock()
		defer netw.mu.Unlock()
		held, ok := netw.pods[podNetID("new")]
		_, old := netw.pods[podNetID("old")]
		return ok && held.Equal(net.ParseIP(ip)) && !old
	}) {
		t.Fatalf("in contact again, the node did not move %s from the removed pod's network to the new pod's", ip)
	}
	if !eventually(10*time.Second, func() bool { return rt.has("new") && !rt.has("old") }) {
		t.Fatal("in contact again, the node did not run the new pod in place of the removed one")
	}
}
