package api

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestDecodePullSecretMergesStringDataAndChecksTheDockerConfig(t *testing.T) {
	cfg := `{"auths":{"reg.example:5000":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("bob:hunter2")) + `"}}}`
	objs, err := Decode(strings.NewReader(`apiVersion: v1
kind: Secret
metadata: {name: regcred}
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: ` + base64.StdEncoding.EncodeToString([]byte(cfg)) + `
stringData:
  note: plain
`))
	if err != nil {
		t.Fatal(err)
	}
	s := objs[0].(*Secret)
	if s.ObjectMeta.Namespace != "default" || s.StringData != nil || string(s.Data["note"]) != "plain" {
		t.Errorf("defaulted secret %+v: want namespace default and stringData merged into data", s)
	}
	logins, err := ParseDockerConfigJSON(s.Data[DockerConfigJSONKey])
	if err != nil || len(logins) != 1 || logins[0] != (DockerLogin{Registry: "reg.example:5000", Username: "bob", Password: "hunter2"}) {
		t.Errorf("logins %+v, %v", logins, err)
	}
}

func TestBadPullSecretsAreRefusedWithoutQuotingThem(t *testing.T) {
	for _, c := range []struct{ cfg, want string }{
		{`not json hunter2`, "not a docker config JSON document"},
		{`{"other":{}}`, `no "auths" object`},
		{`{"auths":{"r":{"auth":"!!hunter2"}}}`, "auths[r].auth: not base64"},
		{`{"auths":{"r":{}}}`, "auths[r]: no username/password or auth"},
	} {
		s := &Secret{ObjectMeta: ObjectMeta{Name: "x"}, Type: SecretTypeDockerConfigJSON, Data: map[string][]byte{DockerConfigJSONKey: []byte(c.cfg)}}
		defaultSecret(s)
		err := ValidateSecret(s)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error %v, want %q and no secret in it", c.cfg, err, c.want)
		}
	}
	s := &Secret{ObjectMeta: ObjectMeta{Name: "x"}, Type: SecretTypeDockerConfigJSON}
	defaultSecret(s)
	if err := ValidateSecret(s); err == nil || !strings.Contains(err.Error(), "data[.dockerconfigjson]: required") {
		t.Errorf("missing .dockerconfigjson: %v", err)
	}
	s = &Secret{ObjectMeta: ObjectMeta{Name: "x"}, Data: map[string][]byte{"bad/key": nil}}
	defaultSecret(s)
	if err := ValidateSecret(s); err == nil || !strings.Contains(err.Error(), "bad/key") {
		t.Errorf("bad key: %v", err)
	}
}
