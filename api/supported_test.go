package api

import (
	"encoding/json"
	"strings"
	"testing"
)

const minimalPodJSON = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"app","image":"busybox:1"%s}]%s}}`

// A field Kubernetes knows but shoal does not implement is refused by its
// path when set, as before the types were Kubernetes' own; set to its zero
// value it asks for nothing and is accepted.
func TestKnownButUnsupportedFieldsAreRefusedByNameOnlyWhenSet(t *testing.T) {
	for name, c := range map[string]struct{ container, spec, want string }{
		"hostPID":              {"", `,"hostPID":true`, "spec.hostPID: not supported by shoal"},
		"container stdin":      {`,"stdin":true`, "", "spec.containers[0].stdin: not supported by shoal"},
		"resource claims":      {`,"resources":{"claims":[{"name":"gpu"}]}`, "", "spec.containers[0].resources.claims: not supported by shoal"},
		"volumeDevices list":   {`,"volumeDevices":[{"name":"d","devicePath":"/dev/x"}]`, "", "spec.containers[0].volumeDevices: not supported by shoal"},
		"probe terminationGPS": {`,"livenessProbe":{"exec":{"command":["true"]},"terminationGracePeriodSeconds":3}`, "", "spec.containers[0].livenessProbe.terminationGracePeriodSeconds: not supported by shoal"},
	} {
		err := DecodeObject([]byte(jsonf(minimalPodJSON, c.container, c.spec)), &Pod{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	for name, c := range map[string]struct{ container, spec string }{
		"hostNetwork false":    {"", `,"hostNetwork":false`},
		"null affinity":        {"", `,"affinity":null`},
		"stdin false":          {`,"stdin":false`, ""},
		"empty envFrom (null)": {`,"envFrom":null`, ""},
	} {
		if err := DecodeObject([]byte(jsonf(minimalPodJSON, c.container, c.spec)), &Pod{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func jsonf(format string, args ...string) string {
	out := format
	for _, a := range args {
		out = strings.Replace(out, "%s", a, 1)
	}
	return out
}

// An unknown field in JSON is named with its full path by the strict
// decoder, in a list too.
func TestUnknownJSONFieldIsNamedWithItsPath(t *testing.T) {
	err := DecodeObject([]byte(jsonf(minimalPodJSON, `,"bogus":1`, "")), &Pod{})
	fes := AsFieldErrors(err)
	if len(fes) != 1 || fes[0].Path != "spec.containers[0].bogus" || fes[0].Detail != "unknown field" {
		t.Fatalf("err = %v, want spec.containers[0].bogus: unknown field", err)
	}
}

// A pod that went through the typed struct (as client-go sends it) carries
// zero values shoal never set, such as conditions with lastProbeTime: null. It decodes as it did before the round trip.
func TestTypedRoundTripDecodes(t *testing.T) {
	objs, err := Decode(strings.NewReader(twoContainers))
	if err != nil {
		t.Fatal(err)
	}
	p := objs[0].(*Pod)
	p.Status.Phase = PodRunning
	p.Status.Conditions = []PodCondition{{Type: "Ready", Status: ConditionTrue}}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"lastProbeTime":null`) {
		t.Fatalf("the typed struct no longer writes the nulls this test is about: %s", b)
	}
	var back Pod
	if err := DecodeObject(b, &back); err != nil {
		t.Fatalf("round trip refused: %v", err)
	}
	if back.Status.Conditions[0].Type != "Ready" || back.Spec.Containers[1].StartupProbe == nil {
		t.Fatalf("round trip lost fields: %+v", back)
	}
}
