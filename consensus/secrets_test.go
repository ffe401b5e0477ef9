package consensus

import (
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func secret(name, value string) api.Secret {
	return api.Secret{ObjectMeta: api.ObjectMeta{Name: name, Labels: map[string]string{"a": "b"}}, Data: map[string][]byte{"k": []byte(value)}}
}

func TestSecretsAreCreatedReplacedDeletedAndSnapshotted(t *testing.T) {
	h := newHarness(t)
	res, err := h.do(ApplySecret{Secret: secret("s", "one"), Create: true, UID: "uid-s", Time: t0})
	if err != nil || !res.Created || res.Secret.ObjectMeta.UID != "uid-s" || res.Secret.Type != api.SecretTypeOpaque {
		t.Fatalf("create: %+v, %v", res, err)
	}
	if _, err := h.do(ApplySecret{Secret: secret("s", "two"), Create: true, UID: "uid-x", Time: t0}); !IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	res, err = h.do(ApplySecret{Secret: secret("s", "two"), UID: "uid-x", Time: t0})
	if err != nil || !res.Changed || string(res.Secret.Data["k"]) != "two" || res.Secret.ObjectMeta.UID != "uid-s" {
		t.Fatalf("replace: %+v, %v", res, err)
	}
	res, err = h.do(ApplySecret{Secret: secret("s", "two"), Time: t0})
	if err != nil || res.Changed {
		t.Fatalf("same again: %+v, %v, want unchanged", res, err)
	}
	bad := secret("bad", "x")
	bad.Type = api.SecretTypeDockerConfigJSON
	if _, err := h.do(ApplySecret{Secret: bad, UID: "uid-b", Time: t0}); !IsInvalid(err) {
		t.Fatalf("dockerconfigjson without .dockerconfigjson: %v, want Invalid", err)
	}
	imm := secret("imm", "x")
	yes := true
	imm.Immutable = &yes
	h.must(ApplySecret{Secret: imm, UID: "uid-i", Time: t0})
	imm.Data["k"] = []byte("y")
	if _, err := h.do(ApplySecret{Secret: imm, Time: t0}); !IsInvalid(err) {
		t.Fatalf("changing an immutable secret: %v, want Invalid", err)
	}

	restored := snapshotRestored(t, h.f)
	got, err := restored.Secret("default", "s")
	if err != nil || string(got.Data["k"]) != "two" {
		t.Fatalf("restored secret %+v, %v", got, err)
	}
	if list, _ := restored.Secrets(nil); len(list) != 2 {
		t.Fatalf("restored %d secrets, want 2", len(list))
	}

	if _, err := h.do(DeleteSecret{Namespace: "default", Name: "s", UID: "other"}); !IsConflict(err) {
		t.Fatalf("delete with a wrong uid: %v, want Conflict", err)
	}
	h.must(DeleteSecret{Namespace: "default", Name: "s"})
	if _, err := h.f.Secret("default", "s"); !IsNotFound(err) {
		t.Fatalf("after delete: %v, want NotFound", err)
	}
}
