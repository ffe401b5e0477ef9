package consensus

import (
	"errors"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// A ReplicaSet made for a Deployment the state does not hold (a pass that
// read it just before its delete) is refused; one for a held Deployment is
// made.
func TestReplicaSetForAGoneDeploymentIsRefused(t *testing.T) {
	s := newState()
	yes := true
	rs := func(name string, uid api.UID) *api.ReplicaSet {
		replicas := int32(1)
		return &api.ReplicaSet{TypeMeta: api.TypeMeta{APIVersion: "apps/v1", Kind: api.KindReplicaSet},
			ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "web"},
				OwnerReferences: []api.OwnerReference{{APIVersion: "apps/v1", Kind: api.KindDeployment, Name: "web", UID: uid, Controller: &yes}}},
			Spec: api.ReplicaSetSpec{Replicas: &replicas, Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web"}},
					Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1"}}}}}}
	}
	_, err := s.applyController(1, &ApplyController{RS: rs("web-1", "gone-uid"), Create: true, UID: "rs-1", Time: time.Now()})
	var conflict *ConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("a ReplicaSet for a Deployment not held: %v, want a conflict", err)
	}
	replicas := int32(1)
	d := &api.Deployment{TypeMeta: api.TypeMeta{APIVersion: "apps/v1", Kind: api.KindDeployment},
		ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: api.DeploymentSpec{Replicas: &replicas, Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1"}}}}}}
	if _, err := s.applyController(2, &ApplyController{Deploy: d, Create: true, UID: "web-uid", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.applyController(3, &ApplyController{RS: rs("web-1", "web-uid"), Create: true, UID: "rs-1", Time: time.Now()}); err != nil {
		t.Fatalf("a ReplicaSet for the held Deployment: %v", err)
	}
}
