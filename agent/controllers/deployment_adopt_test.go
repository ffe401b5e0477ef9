package controllers

import (
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// A Deployment deleted with --cascade=orphan and created again takes its
// ReplicaSet back (same template, same name) rather than failing to create
// it; its pods stay.
func TestDeploymentAdoptsItsOrphanedReplicaSet(t *testing.T) {
	r := newDeployRig(t, 10)
	d := webDeployment(2, "i:1", api.DeploymentStrategy{})
	apply(r.t, r.s, consensus.ApplyController{Deploy: d, Create: true, UID: "d-1", Time: time.Now().UTC()})
	r.roll("create", func(int, census) {})
	rss, _ := r.s.FSM.Controllers(api.KindReplicaSet, nil)
	if len(rss) != 1 {
		t.Fatalf("%d ReplicaSets, want 1", len(rss))
	}
	name := api.MetaOf(rss[0]).Name
	apply(r.t, r.s, consensus.DeleteObject{Kind: consensus.KindDeployment, Namespace: "default", Name: "web", Propagation: consensus.PropagateOrphan})
	pods, _ := r.s.FSM.Pods(nil)

	apply(r.t, r.s, consensus.ApplyController{Deploy: webDeployment(2, "i:1", api.DeploymentStrategy{}), Create: true, UID: "d-2", Time: time.Now().UTC()})
	r.roll("adoption", func(int, census) {})
	rs, err := r.s.FSM.Controller(api.KindReplicaSet, "default", name)
	if err != nil {
		t.Fatal(err)
	}
	if ref := api.ControllerOfMeta(api.MetaOf(rs)); ref == nil || ref.UID != "d-2" {
		t.Fatalf("ReplicaSet %s controlled by %+v, want the new Deployment", name, ref)
	}
	after, _ := r.s.FSM.Pods(nil)
	if len(after) != len(pods) {
		t.Fatalf("pods %d after the adoption, %d before", len(after), len(pods))
	}
	for i := range pods {
		if pods[i].UID != after[i].UID {
			t.Fatalf("pod %s replaced by %s", pods[i].Name, after[i].Name)
		}
	}
	if rss, _ := r.s.FSM.Controllers(api.KindReplicaSet, nil); len(rss) != 1 {
		t.Fatalf("%d ReplicaSets after the adoption, want 1", len(rss))
	}
}
