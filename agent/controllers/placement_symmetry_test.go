package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/placement"
)

// A round whose pending pods have no pod terms still reads the bound pods
// whose required anti-affinity keeps others out, and only those: a web
// pod without terms goes where the bound db does not refuse it.
func TestPlacedForReadsTheBoundPodsThatRepelOthers(t *testing.T) {
	l, s := testLeader(t, Config{Liveness: liveness.WithGrace(time.Second)}, Deps{Members: &fakeFleet{}})
	for i, n := range []string{"n1", "n2"} {
		registerReady(t, s, Member{Name: n, Addr: "10.0.0." + string(rune('1'+i)), Pods: 100, Memory: "10Gi", CPU: "10"})
	}
	web := func(name string) *api.Pod {
		return &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "web"}},
			Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1"}}}}
	}
	if l.placedFor([]*api.Pod{web("w0")}) != nil {
		t.Fatal("no pending pod has terms and no bound pod repels: the round must read no bound pods")
	}
	boundPod(t, s, "plain", "", "n2") // no terms: never read for a termless round

	db := api.Pod{ObjectMeta: api.ObjectMeta{Name: "db", Namespace: "default", Labels: map[string]string{"app": "db"}},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1"}},
			Affinity: &api.Affinity{PodAntiAffinity: &api.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []api.PodAffinityTerm{{
				TopologyKey: "kubernetes.io/hostname", LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}}}}}
	db.APIVersion, db.Kind = "v1", "Pod"
	apply(t, s, consensus.CreatePod{Pod: db, UID: "uid-db", Time: time.Now().UTC()})
	ip, err := s.FSM.FreePodIP("n1")
	if err != nil {
		t.Fatal(err)
	}
	apply(t, s, consensus.BindPod{Namespace: "default", Name: "db", UID: "uid-db", Node: "n1", PodIP: ip.String(), Time: time.Now().UTC()})

	placed := l.placedFor([]*api.Pod{web("w1")})
	if placed == nil {
		t.Fatal("a bound pod repels web pods: the round must read it")
	}
	infos := s.FSM.AppendNodeInfos(nil)
	for i := 0; i < 3; i++ {
		got, why, err := placement.ChooseAmong(web("w"+string(rune('1'+i))), infos, placed)
		if err != nil || got != "n2" {
			t.Fatalf("a web pod without terms beside a db refusing web on its host: %q %v %v, want n2", got, why, err)
		}
	}
}
