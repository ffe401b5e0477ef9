package node

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

// unreachableSource is the fleet as a cut-off node sees it: no answer.
type unreachableSource struct{}

func (unreachableSource) Assignments(context.Context, uint64, time.Duration) (*Assignments, error) {
	return nil, errors.New("dial tcp 10.0.0.1:7081: i/o timeout")
}

// Issue 25 item 3: an agent restarted while cut off from the fleet takes
// its last view from disk. It kills at once the replica whose fence
// deadline passed while it was down (the leader may have replaced it),
// and keeps the pods tolerated for good (a tolerant replica, a bare pod)
// running: a pod whose container is gone is started again, as a crash is
// restarted by its restartPolicy. It reports nothing and removes nothing
// else while no one answers.
func TestAgentRestartedWhileCutOffKeepsAndFencesFromItsSavedView(t *testing.T) {
	yes := true
	pod := func(uid, ip string, owned bool, tol ...api.Toleration) api.Pod {
		p := api.Pod{ObjectMeta: api.ObjectMeta{Name: uid, Namespace: "default", UID: api.UID(uid)},
			Spec:   api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "app"}}, Tolerations: tol},
			Status: api.PodStatus{PodIP: ip, Phase: api.PodRunning}}
		if owned {
			p.OwnerReferences = []api.OwnerReference{{Kind: api.KindReplicaSet, Name: "rs", Controller: &yes}}
		}
		return p
	}
	forever := api.Toleration{Key: api.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: api.TaintNoExecute}
	view := []api.Pod{
		pod("plain", "10.244.1.2", true),
		pod("tolerant", "10.244.1.3", true, forever),
		pod("bare", "10.244.1.4", false),
	}
	path := filepath.Join(t.TempDir(), "node", "view.json")
	lastContact := time.Now().Add(-time.Minute).Truncate(time.Second)
	if err := saveView(path, view, lastContact); err != nil {
		t.Fatal(err)
	}

	// The restarted agent: its runtime still holds plain and bare; the
	// tolerant pod's container died while the agent was down.
	rt := newMemRuntime("plain", "bare")
	status := &statusLog{}
	netw := &memNetwork{pods: map[string]net.IP{}}
	fence := NewFencer(FenceConfig{Liveness: liveness.WithGrace(time.Second), ViewFile: path, Log: slog.New(slog.DiscardHandler)}, &fleetAt{})
	if !fence.restored.Equal(lastContact) {
		t.Fatalf("restored last contact %v, want the saved view's %v", fence.restored, lastContact)
	}
	r, err := New(Config{Name: "n1", Resync: time.Minute}, Deps{Assignments: unreachableSource{}, Status: status, Runtime: rt, Network: netw, Fence: fence})
	if err != nil {
		t.Fatal(err)
	}
	runUntilTestEnds(t, fence.Run, r.Run)

	if !eventually(10*time.Second, func() bool { return slices.Contains(rt.killedPods(), "plain") }) {
		t.Fatal("a replica whose fence deadline passed while the agent was down kept running")
	}
	if !eventually(10*time.Second, func() bool {
		pods, _ := rt.state()
		return pods["tolerant"] != ""
	}) {
		t.Fatal("the cut-off node did not start again the container of a pod it keeps")
	}
	pods, removed := rt.state()
	if pods["bare"] == "" || pods["plain"] != "" || len(removed) != 1 {
		t.Fatalf("pods %v, removed %v: want plain killed, tolerant and bare kept", pods, removed)
	}
	if len(status.of("tolerant")) != 0 || len(status.of("bare")) != 0 {
		t.Fatal("a cut-off node reported statuses")
	}
}

// The view the node acts on is saved with the evidence's own time (a
// follower's last word from its leader), never a later moment: a
// restarted agent counts its deadlines from it.
func TestSavedViewRecordsTheLastContact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "view.json")
	f := NewFencer(FenceConfig{Liveness: liveness.WithGrace(time.Second), ViewFile: path}, &fleetAt{seat: followerSeat{idx: 5}, leaderIndex: 5})
	p := api.Pod{ObjectMeta: api.ObjectMeta{UID: "a", ResourceVersion: "7"}}
	start := time.Now()
	if !f.reconcileAllowed(&Assignments{Index: 5, Pods: []api.Pod{p}}) {
		t.Fatal("a follower in touch, caught up, was refused")
	}
	checked := time.Now()
	pods, at, err := loadView(path)
	if err != nil || len(pods) != 1 || pods[0].ObjectMeta.UID != "a" {
		t.Fatalf("saved view %v (%v), want pod a", pods, err)
	}
	// followerSeat's leader spoke 10 ms before each look.
	if at.After(checked) || at.Before(start.Add(-time.Second)) {
		t.Fatalf("saved with time %v, want the last contact, between %v and %v", at, start, checked)
	}
	if err := touchContact(path, at.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, back, _ := loadView(path); !back.Equal(at.Add(-time.Second)) {
		t.Fatalf("touched contact read back as %v", back)
	}
}
