package api

import (
	"strings"
	"testing"
)

const dataVolumePod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"app","image":"busybox:1","volumeMounts":[{"name":"v","mountPath":"/v"}]}],"volumes":[{"name":"v",%s}]}}`

func TestDataVolumesAreDefaultedAndAccepted(t *testing.T) {
	for _, src := range []string{
		`"configMap":{"name":"cfg","items":[{"key":"a","path":"dir/a.txt","mode":256}],"optional":true}`,
		`"secret":{"secretName":"s","defaultMode":256}`,
		`"downwardAPI":{"items":[{"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}},{"path":"team","fieldRef":{"fieldPath":"metadata.labels['team']"}}]}`,
		`"projected":{"sources":[{"configMap":{"name":"cfg"}},{"secret":{"name":"s","items":[{"key":"k","path":"k"}]}},{"downwardAPI":{"items":[{"path":"name","fieldRef":{"fieldPath":"metadata.name"}}]}}]}`,
	} {
		p := &Pod{}
		if err := DecodeObject([]byte(jsonf(dataVolumePod, src)), p); err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		v := p.Spec.Volumes[0]
		var mode *int32
		switch {
		case v.ConfigMap != nil:
			mode = v.ConfigMap.DefaultMode
		case v.Secret != nil:
			mode = v.Secret.DefaultMode
		case v.DownwardAPI != nil:
			mode = v.DownwardAPI.DefaultMode
			if v.DownwardAPI.Items[0].FieldRef.APIVersion != "v1" {
				t.Errorf("fieldRef apiVersion not defaulted")
			}
		case v.Projected != nil:
			mode = v.Projected.DefaultMode
		}
		if mode == nil || (*mode != 0o644 && *mode != 256) {
			t.Errorf("%s: defaultMode %v", src, mode)
		}
	}
}

func TestBadDataVolumesAreRefusedNamingTheField(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`"configMap":{}`, "spec.volumes[0].configMap.name: "},
		{`"configMap":{"name":"c","defaultMode":1000}`, `spec.volumes[0].configMap.defaultMode: invalid value "01750": must be a file mode between 0 and 0777`},
		{`"configMap":{"name":"c","items":[{"key":"a","path":"/etc/a"}]}`, `spec.volumes[0].configMap.items[0].path: invalid value "/etc/a": must be a relative path`},
		{`"configMap":{"name":"c","items":[{"key":"a","path":"x/../../a"}]}`, `spec.volumes[0].configMap.items[0].path: invalid value "x/../../a": must not contain '..'`},
		{`"configMap":{"name":"c","items":[{"key":"a/b","path":"a"}]}`, `spec.volumes[0].configMap.items[0].key: invalid value "a/b"`},
		{`"secret":{"secretName":"s","items":[{"key":"k","path":"..k"}]}`, `spec.volumes[0].secret.items[0].path: invalid value "..k": must not start with '..'`},
		{`"secret":{}`, "spec.volumes[0].secret.secretName: "},
		{`"downwardAPI":{"items":[{"path":"ip","fieldRef":{"fieldPath":"status.podIP"}}]}`, `spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath: invalid value "status.podIP": supported values: metadata.name`},
		{`"downwardAPI":{"items":[{"path":"x"}]}`, "spec.volumes[0].downwardAPI.items[0].fieldRef: required"},
		{`"projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}`, "spec.volumes[0].projected.sources[0].serviceAccountToken: not supported by shoal"},
		{`"projected":{"sources":[{"configMap":{"name":"c"},"secret":{"name":"s"}}]}`, "spec.volumes[0].projected.sources[0]: must have exactly one of configMap, secret or downwardAPI, has 2"},
		{`"configMap":{"name":"c"},"secret":{"secretName":"s"}`, "must have exactly one volume source"},
	} {
		err := DecodeObject([]byte(jsonf(dataVolumePod, c.src)), &Pod{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.src, err, c.want)
		}
	}
}
