package agent

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

// A typed client (client-go) reads a pod into the k8s.io/api struct and
// writes it back: the body then carries zero values shoal never set, such
// as conditions with lastProbeTime: null. That update is accepted.
func TestTypedClientRoundTripIsAcceptedOnUpdate(t *testing.T) {
	base := startAgent(t, "typed", "2Gi")
	pods := base + "/api/v1/namespaces/default/pods"
	if code, st := send(t, "POST", pods, fmt.Sprintf(podYAML, "web", "64Mi")); code != http.StatusCreated {
		t.Fatalf("create: %d %+v", code, st)
	}
	// As client-go's RetryOnConflict: the leader binds the pod meanwhile.
	var code int
	var b []byte
	for try := 0; try < 20; try++ {
		code, b = do(t, "GET", pods+"/web", "", "application/json", "")
		if code != http.StatusOK {
			t.Fatalf("get: %d %s", code, b)
		}
		p := decode[api.Pod](t, b)
		p.Labels = map[string]string{"tier": "front"}
		p.Status.Conditions = append(p.Status.Conditions, api.PodCondition{Type: "Ready", Status: api.ConditionFalse})
		body, err := json.Marshal(&p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), `"lastProbeTime":null`) {
			t.Fatalf("the typed struct no longer writes lastProbeTime: null: %s", body)
		}
		code, b = do(t, "PUT", pods+"/web", "application/json", "application/json", string(body))
		if code != http.StatusConflict {
			break
		}
	}
	if code != http.StatusOK {
		t.Fatalf("update of a typed round trip: %d %s", code, b)
	}
	if got := decode[api.Pod](t, b); got.Labels["tier"] != "front" {
		t.Fatalf("update not applied: %s", b)
	}
}

// client-go writes typed objects as protobuf and asks for protobuf back. A
// protobuf pod is created (and judged by the same supported-field check as
// JSON), and answers come back as protobuf objects.
func TestProtobufBodiesAndAnswers(t *testing.T) {
	base := startAgent(t, "proto", "2Gi")
	pods := base + "/api/v1/namespaces/default/pods"
	const accept = "application/vnd.kubernetes.protobuf, application/json"
	pod := &api.Pod{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: api.ObjectMeta{Name: "pb"},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "app", Image: "shoal.local/busybox:1"}}}}
	pb, err := api.EncodeProtobuf(pod)
	if err != nil {
		t.Fatal(err)
	}
	code, b := do(t, "POST", pods, api.ContentTypeProtobuf, accept, string(pb))
	if code != http.StatusCreated {
		t.Fatalf("protobuf create: %d %s", code, b)
	}
	obj, err := api.DecodeProtobuf(b)
	if err != nil {
		t.Fatalf("answer is not protobuf: %v (%q)", err, b)
	}
	if got, ok := obj.(*api.Pod); !ok || got.Name != "pb" || got.Spec.RestartPolicy != api.RestartAlways || got.ResourceVersion == "" {
		t.Fatalf("answer: %#v", obj)
	}

	code, b = do(t, "GET", pods, "", accept, "")
	list, err := api.DecodeProtobuf(b)
	if code != http.StatusOK || err != nil {
		t.Fatalf("protobuf list: %d %v", code, err)
	}
	if l, ok := list.(*api.PodList); !ok || len(l.Items) != 1 || l.Items[0].Name != "pb" {
		t.Fatalf("list: %#v", list)
	}

	// What shoal refuses by name in JSON it refuses in protobuf too.
	bad := pod.DeepCopy()
	bad.Name, bad.Spec.HostPID = "host", true
	pb, err = api.EncodeProtobuf(bad)
	if err != nil {
		t.Fatal(err)
	}
	code, b = do(t, "POST", pods, api.ContentTypeProtobuf, "application/json", string(pb))
	st := decode[api.Status](t, b)
	if code != http.StatusUnprocessableEntity || !strings.Contains(st.Message, "spec.hostPID: not supported by shoal") {
		t.Fatalf("hostPID in protobuf: %d %s", code, b)
	}

	// Bytes that are not protobuf are a named error, not a crash.
	code, b = do(t, "POST", pods, api.ContentTypeProtobuf, "application/json", "not protobuf")
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(b), "protobuf") {
		t.Fatalf("garbage protobuf: %d %s", code, b)
	}
}

// A JSON body with an unknown field is refused, naming the field's path.
func TestUnknownJSONFieldIsRefusedByPath(t *testing.T) {
	base := startAgent(t, "unknown", "2Gi")
	body := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"containers":[{"name":"app","image":"shoal.local/busybox:1","bogus":1}]}}`
	code, b := do(t, "POST", base+"/api/v1/namespaces/default/pods", "application/json", "application/json", body)
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(b), "spec.containers[0].bogus") {
		t.Fatalf("%d %s", code, b)
	}
}
