package agent

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/podruntime"
)

func TestSecretsOverTheAPIAndAsPullCredentials(t *testing.T) {
	base := startAgent(t, "secrets", "1Gi")
	const pass = "pw-never-shown"
	cfg := `{"auths":{"reg.example:5000":{"username":"ci","password":"` + pass + `"}}}`
	manifest := `apiVersion: v1
kind: Secret
metadata: {name: regcred}
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: ` + base64.StdEncoding.EncodeToString([]byte(cfg)) + "\n"
	coll := base + "/api/v1/namespaces/default/secrets"
	if code, b := do(t, "POST", coll, "application/yaml", "", manifest); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, b)
	}
	if code, b := do(t, "POST", coll, "application/yaml", "", manifest); code != http.StatusConflict {
		t.Fatalf("create again: %d %s, want 409 AlreadyExists", code, b)
	}
	bad := strings.Replace(manifest, "type: kubernetes.io/dockerconfigjson", "type: kubernetes.io/dockerconfigjson\nstringData: {.dockerconfigjson: '"+pass+"'}", 1)
	code, b := do(t, "PUT", coll+"/regcred", "application/yaml", "", bad)
	if code != http.StatusUnprocessableEntity || strings.Contains(string(b), pass) {
		t.Fatalf("bad docker config: %d %s, want 422 that does not quote it", code, b)
	}

	code, b = do(t, "GET", coll, "", tableAccept, "")
	tbl := string(b)
	if code != http.StatusOK || !strings.Contains(tbl, `"cells":["regcred","kubernetes.io/dockerconfigjson",1,`) || strings.Contains(tbl, base64.StdEncoding.EncodeToString([]byte(cfg))) {
		t.Fatalf("table: %d %s, want NAME TYPE DATA AGE without values", code, tbl)
	}
	code, b = do(t, "GET", coll+"/regcred", "", "", "")
	if s := decode[api.Secret](t, b); code != http.StatusOK || string(s.Data[api.DockerConfigJSONKey]) != cfg {
		t.Fatalf("get: %d %s", code, b)
	}

	a := &Agent{self: nodeMeta{API: strings.TrimPrefix(base, "http://")}, log: slog.New(slog.DiscardHandler)}
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: "p"},
		Spec: api.PodSpec{ImagePullSecrets: []api.LocalObjectReference{{Name: "regcred"}, {Name: "missing"}}}}
	creds, err := pullSecrets{a}.PullCredentials(context.Background(), pod)
	if err != nil || len(creds) != 1 || creds[0] != (podruntime.RegistryCredential{Registry: "reg.example:5000", Username: "ci", Password: pass}) {
		t.Fatalf("pull credentials %+v, %v; want the one login (a missing secret is skipped)", creds, err)
	}

	if code, b := do(t, "DELETE", coll+"/regcred", "", "", ""); code != http.StatusOK {
		t.Fatalf("delete: %d %s", code, b)
	}
	if code, _ := do(t, "GET", coll+"/regcred", "", "", ""); code != http.StatusNotFound {
		t.Fatalf("get after delete: %d, want 404", code)
	}
}
