package consensus

import (
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func configMap(name, value string) api.ConfigMap {
	return api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: name, Labels: map[string]string{"a": "b"}}, Data: map[string]string{"k": value}}
}

func TestConfigMapsAreCreatedReplacedDeletedStreamedAndSnapshotted(t *testing.T) {
	h := newHarness(t)
	sub, err := h.f.Changes().Subscribe(KindConfigMap, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	res, err := h.do(ApplyConfigMap{ConfigMap: configMap("c", "one"), Create: true, UID: "uid-c", Time: t0})
	if err != nil || !res.Created || res.ConfigMap.ObjectMeta.UID != "uid-c" || res.ConfigMap.Kind != api.KindConfigMap {
		t.Fatalf("create: %+v, %v", res, err)
	}
	if _, err := h.do(ApplyConfigMap{ConfigMap: configMap("c", "two"), Create: true, UID: "uid-x", Time: t0}); !IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	res, err = h.do(ApplyConfigMap{ConfigMap: configMap("c", "two"), UID: "uid-x", Time: t0})
	if err != nil || !res.Changed || res.ConfigMap.Data["k"] != "two" || res.ConfigMap.ObjectMeta.UID != "uid-c" {
		t.Fatalf("replace: %+v, %v", res, err)
	}
	if res, err = h.do(ApplyConfigMap{ConfigMap: configMap("c", "two"), Time: t0}); err != nil || res.Changed {
		t.Fatalf("same again: %+v, %v, want unchanged", res, err)
	}
	stale := configMap("c", "three")
	stale.ObjectMeta.ResourceVersion = "1"
	if _, err := h.do(ApplyConfigMap{ConfigMap: stale, Time: t0}); !IsConflict(err) {
		t.Fatalf("stale resourceVersion: %v, want Conflict", err)
	}
	bad := configMap("bad", "x")
	bad.BinaryData = map[string][]byte{"k": []byte("y")}
	if _, err := h.do(ApplyConfigMap{ConfigMap: bad, UID: "uid-b", Time: t0}); !IsInvalid(err) || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("a key in data and binaryData: %v, want Invalid naming the duplicate", err)
	}
	imm := configMap("imm", "x")
	yes := true
	imm.Immutable = &yes
	h.must(ApplyConfigMap{ConfigMap: imm, UID: "uid-i", Time: t0})
	imm.Data["k"] = "y"
	if _, err := h.do(ApplyConfigMap{ConfigMap: imm, Time: t0}); !IsInvalid(err) {
		t.Fatalf("changing an immutable ConfigMap: %v, want Invalid", err)
	}
	if got, _ := h.f.ConfigMap("default", "imm"); got.Data["k"] != "x" {
		t.Fatalf("refused change stored: %+v", got)
	}

	restored := snapshotRestored(t, h.f)
	got, err := restored.ConfigMap("default", "c")
	if err != nil || got.Data["k"] != "two" {
		t.Fatalf("restored ConfigMap %+v, %v", got, err)
	}
	if list, _ := restored.ConfigMaps(nil); len(list) != 2 {
		t.Fatalf("restored %d ConfigMaps, want 2", len(list))
	}

	if _, err := h.do(DeleteConfigMap{Namespace: "default", Name: "c", UID: "other"}); !IsConflict(err) {
		t.Fatalf("delete with a wrong uid: %v, want Conflict", err)
	}
	h.must(DeleteConfigMap{Namespace: "default", Name: "c"})
	if _, err := h.f.ConfigMap("default", "c"); !IsNotFound(err) {
		t.Fatalf("after delete: %v, want NotFound", err)
	}
	// create c, replace c, create imm, delete c: four changes of the kind.
	var keys []string
	for len(keys) < 4 {
		ch, ok := <-sub.C
		if !ok {
			t.Fatal("change stream closed")
		}
		keys = append(keys, ch.Key)
	}
	if strings.Join(keys, " ") != "default/c default/c default/imm default/c" {
		t.Fatalf("changes %v", keys)
	}
}
