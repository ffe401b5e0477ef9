package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

func TestEvictionDue(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	added := api.TimeOf(t0)
	taint := api.Taint{Key: "k", Effect: api.TaintNoExecute, TimeAdded: &added}
	secs := func(s int64) *int64 { return &s }
	cases := map[string]struct {
		tol  []api.Toleration
		ok   bool
		want time.Time
	}{
		"none":          {nil, true, time.Time{}},
		"other key":     {[]api.Toleration{{Key: "x", Operator: "Exists"}}, true, time.Time{}},
		"forever":       {[]api.Toleration{{Key: "k", Operator: "Exists", Effect: api.TaintNoExecute}}, false, time.Time{}},
		"30s":           {[]api.Toleration{{Key: "k", Operator: "Exists", Effect: api.TaintNoExecute, TolerationSeconds: secs(30)}}, true, t0.Add(30 * time.Second)},
		"least of two":  {[]api.Toleration{{Key: "k", Operator: "Exists", TolerationSeconds: secs(60)}, {Operator: "Exists", TolerationSeconds: secs(10)}}, true, t0.Add(10 * time.Second)},
		"bound+forever": {[]api.Toleration{{Key: "k", Operator: "Exists"}, {Key: "k", Operator: "Exists", TolerationSeconds: secs(5)}}, true, t0.Add(5 * time.Second)},
		"negative":      {[]api.Toleration{{Key: "k", Operator: "Exists", TolerationSeconds: secs(-3)}}, true, t0},
	}
	for name, c := range cases {
		p := &api.Pod{Spec: api.PodSpec{Tolerations: c.tol}}
		got, ok := evictionDue(p, []api.Taint{taint})
		if ok != c.ok || !got.Equal(c.want) {
			t.Errorf("%s: evictionDue = %v %v, want %v %v", name, got, ok, c.want, c.ok)
		}
	}
}

func TestNoExecuteTaintEvictsPodsThatDoNotTolerateIt(t *testing.T) {
	l, s := testLeader(t, Config{Liveness: liveness.WithGrace(time.Minute)}, Deps{Members: &fakeFleet{}})
	registerReady(t, s, Member{Name: "a", Addr: "192.168.50.2", Memory: "4Gi", CPU: "2", Alive: true})
	t0 := time.Now().UTC().Truncate(time.Second)
	secs := int64(30)
	for name, tol := range map[string][]api.Toleration{
		"plain":   nil,
		"forever": {{Key: "maint", Operator: "Exists", Effect: api.TaintNoExecute}},
		"for30s":  {{Key: "maint", Operator: "Exists", Effect: api.TaintNoExecute, TolerationSeconds: &secs}},
	} {
		p := api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"},
			Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1"}}, Tolerations: tol}}
		uid := api.UID("uid-" + name)
		apply(t, s, consensus.CreatePod{Pod: p, UID: uid, Time: t0})
		ip, err := s.FSM.FreePodIP("a")
		if err != nil {
			t.Fatal(err)
		}
		apply(t, s, consensus.BindPod{Namespace: "default", Name: name, UID: uid, Node: "a", PodIP: ip.String(), Time: t0})
	}
	n, _ := s.FSM.Node("a")
	n.Spec.Taints = []api.Taint{{Key: "maint", Effect: api.TaintNoExecute}}
	apply(t, s, consensus.UpdateNode{Node: *n, Time: t0})

	left := func() map[string]bool {
		pods, _ := s.FSM.Pods(func(*api.Pod) bool { return true })
		out := map[string]bool{}
		for _, p := range pods {
			out[p.ObjectMeta.Name] = true
		}
		return out
	}
	ctx := context.Background()
	l.evictNoExecute(ctx, t0.Add(time.Second))
	if got := left(); got["plain"] || !got["forever"] || !got["for30s"] {
		t.Fatalf("after 1s: pods %v, want plain evicted, the tolerating ones kept", got)
	}
	l.evictNoExecute(ctx, t0.Add(31*time.Second))
	if got := left(); got["for30s"] || !got["forever"] {
		t.Fatalf("after 31s: pods %v, want for30s evicted, forever kept", got)
	}
}
