package printers

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api"
)

func TestReplicatedRowsShowReplicasTemplateAndSelectorLikeKubectl(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	two := int32(2)
	meta := api.ObjectMeta{Name: "web", CreationTimestamp: metav1.NewTime(now.Add(-3 * time.Minute))}
	tmpl := api.PodTemplateSpec{Spec: api.PodSpec{Containers: []api.Container{{Name: "app", Image: "a:1"}, {Name: "log", Image: "l:1"}}}}
	rc := &api.ReplicationController{ObjectMeta: meta, Spec: api.ReplicationControllerSpec{Replicas: &two,
		Selector: map[string]string{"tier": "front", "app": "web"}, Template: &tmpl},
		Status: api.ReplicationControllerStatus{Replicas: 2, ReadyReplicas: 1}}
	rs := &api.ReplicaSet{ObjectMeta: meta, Spec: api.ReplicaSetSpec{Replicas: &two,
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, Template: tmpl}}
	want := []any{"web", int64(2), int64(2), int64(1), "3m", "app,log", "a:1,l:1", "app=web,tier=front"}
	if got := ReplicationController(rc, now); !reflect.DeepEqual(got, want) {
		t.Errorf("rc row %q, want %q", got, want)
	}
	want = []any{"web", int64(2), int64(0), int64(0), "3m", "app,log", "a:1,l:1", "app=web"}
	if got := ReplicaSet(rs, now); !reflect.DeepEqual(got, want) {
		t.Errorf("rs row %q, want %q", got, want)
	}
	if got := ReplicaSet(&api.ReplicaSet{}, now); got[1] != int64(1) || got[7] != "<none>" {
		t.Errorf("empty rs row %q: want 1 desired (the default) and no selector", got)
	}
}

func TestSecretRowCountsKeysAndNeverShowsValues(t *testing.T) {
	s := &api.Secret{ObjectMeta: api.ObjectMeta{Name: "db"}, Type: api.SecretTypeOpaque, Data: map[string][]byte{"user": []byte("u"), "pass": []byte("hunter2")}}
	got := Secret(s, time.Now())
	if want := []any{"db", "Opaque", int64(2), "<unknown>"}; !reflect.DeepEqual(got, want) {
		t.Errorf("row %q, want %q", got, want)
	}
}
