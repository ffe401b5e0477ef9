package agent

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

// These tests throw bad input at one real in-process agent (real Raft, the
// real HTTP API) and hold it to docs/bad-input.md: every rejection is a
// Kubernetes Status with the documented code and reason and a message that
// says what is wrong, and nothing stored changes.

const rcTemplateYAML = `apiVersion: v1
kind: ReplicationController
metadata: {name: %s}
spec:
  replicas: %d
  selector: {app: %s}
  template:
    metadata: {labels: {app: %s}}
    spec:
      containers:
      - name: app
        image: shoal.local/busybox:1
        resources: {requests: {memory: 16Mi}}
`

// storedState is what the API stores, minus what moves by itself (status,
// resourceVersion, heartbeats): metadata and spec of every pod, RC and
// ReplicaSet, metadata, type and data of every Secret, and the node names,
// as sorted lines.
func storedState(t *testing.T, base string) string {
	t.Helper()
	var lines []string
	add := func(kind string, meta api.ObjectMeta, spec any) {
		meta.ResourceVersion = ""
		b, err := json.Marshal(struct {
			M api.ObjectMeta
			S any
		}{meta, spec})
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, kind+" "+string(b))
	}
	var pods api.PodList
	if err := getJSON(base+"/api/v1/pods", &pods); err != nil {
		t.Fatalf("list pods: %v", err)
	}
	for _, p := range pods.Items {
		add("pod", p.ObjectMeta, p.Spec)
	}
	var rcs api.ReplicationControllerList
	if err := getJSON(base+"/api/v1/replicationcontrollers", &rcs); err != nil {
		t.Fatalf("list rcs: %v", err)
	}
	for _, rc := range rcs.Items {
		add("rc", rc.ObjectMeta, rc.Spec)
	}
	var rss api.ReplicaSetList
	if err := getJSON(base+"/apis/apps/v1/replicasets", &rss); err != nil {
		t.Fatalf("list replicasets: %v", err)
	}
	for _, rs := range rss.Items {
		add("rs", rs.ObjectMeta, rs.Spec)
	}
	var secrets struct{ Items []api.Secret }
	if err := getJSON(base+"/api/v1/secrets", &secrets); err != nil {
		t.Fatalf("list secrets: %v", err)
	}
	for _, s := range secrets.Items {
		add("secret", s.ObjectMeta, struct {
			Type      string
			Data      map[string][]byte
			Immutable *bool
		}{string(s.Type), s.Data, s.Immutable})
	}
	var nodes api.NodeList
	if err := getJSON(base+"/api/v1/nodes", &nodes); err != nil {
		t.Fatalf("list nodes: %v", err)
	}
	for _, n := range nodes.Items {
		lines = append(lines, "node "+n.ObjectMeta.Name)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// request sends body and decodes the answer as a Status when it is one.
func request(t *testing.T, method, url, contentType, body string) (int, api.Status, []byte) {
	t.Helper()
	code, b := do(t, method, url, contentType, "", body)
	var st api.Status
	_ = json.Unmarshal(b, &st)
	return code, st, b
}

func TestBadInputIsRefusedClearlyAndChangesNothing(t *testing.T) {
	base := startAgent(t, "badinput", "1Gi")
	ns := base + "/api/v1/namespaces/default"
	pods, rcs, rss := ns+"/pods", ns+"/replicationcontrollers", base+"/apis/apps/v1/namespaces/default/replicasets"
	if code, st := send(t, "POST", pods, fmt.Sprintf(podYAML, "keep", "64Mi")); code != http.StatusCreated {
		t.Fatalf("create keep: %d %+v", code, st)
	}
	if code, st := send(t, "POST", rcs, fmt.Sprintf(rcTemplateYAML, "keeprc", 1, "keeprc", "keeprc")); code != http.StatusCreated {
		t.Fatalf("create keeprc: %d %+v", code, st)
	}
	keepSecret := `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"keepsecret"},"data":{"token":"a2VlcA=="}}`
	if code, st := send(t, "POST", ns+"/secrets", keepSecret); code != http.StatusCreated {
		t.Fatalf("create keepsecret: %d %+v", code, st)
	}
	// Wait until the fleet has settled: the RC made its replica and every
	// pod is bound, so nothing stored moves by itself any more.
	eventually(t, "pods bound", func() bool {
		var l api.PodList
		if getJSON(base+"/api/v1/pods", &l) != nil || len(l.Items) != 2 {
			return false
		}
		for _, p := range l.Items {
			if p.Spec.NodeName == "" {
				return false
			}
		}
		return true
	})
	var keep api.Pod
	if err := getJSON(pods+"/keep", &keep); err != nil {
		t.Fatal(err)
	}
	var keeprc api.ReplicationController
	if err := getJSON(rcs+"/keeprc", &keeprc); err != nil {
		t.Fatal(err)
	}
	before := storedState(t, base)

	huge := fmt.Sprintf(podYAML, "huge", "1Mi") + "  annotations: {a: \"" + strings.Repeat("x", maxBodyBytes) + "\"}\n"
	deep := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"deep"},"spec":{"containers":` +
		strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000) + `}}`
	laughs := "apiVersion: v1\nkind: Pod\nmetadata: {name: lol}\na: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
	for i, prev := 'b', 'a'; i <= 'j'; i, prev = i+1, i {
		laughs += fmt.Sprintf("%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", i, i, prev, prev, prev, prev, prev, prev, prev, prev, prev)
	}
	stale := strings.Replace(fmt.Sprintf(podYAML, "keep", "64Mi"), "metadata: {name: keep}", "metadata: {name: keep, resourceVersion: \"1\"}", 1)
	staleRC := strings.Replace(fmt.Sprintf(rcTemplateYAML, "keeprc", 2, "keeprc", "keeprc"), "metadata: {name: keeprc}", "metadata: {name: keeprc, resourceVersion: \"1\"}", 1)
	scale := func(replicas int, rv string) string {
		return fmt.Sprintf(`{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"keeprc","namespace":"default","resourceVersion":%q},"spec":{"replicas":%d}}`, rv, replicas)
	}

	cases := []struct {
		name, method, url, contentType, body string
		code                                 int
		reason                               string
		message                              string // a part of the message
		field                                string // a cause's field, when the error is Invalid
	}{
		{"malformed YAML", "POST", pods, "application/yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: [oops\n", 400, "BadRequest", "yaml", ""},
		{"malformed JSON", "POST", pods, "application/json", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}`, 400, "BadRequest", "yaml", ""},
		{"binary garbage", "POST", pods, "application/json", "\x00\xff\xfe\x01garbage\x00", 400, "BadRequest", "", ""},
		{"empty body", "POST", pods, "application/json", "", 422, "Invalid", "", ""},
		{"a list instead of an object", "POST", pods, "application/json", `[1,2,3]`, 422, "Invalid", "expected an object, got a list", "<root>"},
		{"huge pod", "POST", pods, "application/yaml", huge, 413, "RequestEntityTooLarge", "larger than", ""},
		{"huge replace", "PUT", pods + "/keep", "application/yaml", huge, 413, "RequestEntityTooLarge", "larger than", ""},
		{"huge patch", "PATCH", pods + "/keep", mergePatchType, `{"metadata":{"annotations":{"a":"` + strings.Repeat("x", maxBodyBytes) + `"}}}`, 413, "RequestEntityTooLarge", "larger than", ""},
		{"huge patch on an rc", "PATCH", rcs + "/keeprc", mergePatchType, `{"metadata":{"annotations":{"a":"` + strings.Repeat("x", maxBodyBytes) + `"}}}`, 413, "RequestEntityTooLarge", "larger than", ""},
		{"huge json patch on a scale", "PATCH", rcs + "/keeprc/scale", jsonPatchType, `[{"op":"add","path":"/metadata/annotations","value":{"a":"` + strings.Repeat("x", maxBodyBytes) + `"}}]`, 413, "RequestEntityTooLarge", "larger than", ""},
		{"huge rc", "POST", rcs, "application/yaml", huge, 413, "RequestEntityTooLarge", "larger than", ""},
		{"huge scale", "PUT", rcs + "/keeprc/scale", "application/json", strings.Repeat(" ", maxBodyBytes+1), 413, "RequestEntityTooLarge", "larger than", ""},
		{"deeply nested", "POST", pods, "application/json", deep, 400, "BadRequest", "max depth", ""},
		{"alias bomb", "POST", pods, "application/yaml", laughs, 400, "BadRequest", "aliasing", ""},
		{"wrong kind", "POST", pods, "application/yaml", strings.Replace(fmt.Sprintf(podYAML, "svc", "1Mi"), "kind: Pod", "kind: Service", 1), 422, "Invalid", "this endpoint takes a Pod", "kind"},
		{"wrong apiVersion", "POST", pods, "application/yaml", strings.Replace(fmt.Sprintf(podYAML, "v2", "1Mi"), "apiVersion: v1", "apiVersion: v2", 1), 422, "Invalid", "this endpoint takes v1", "apiVersion"},
		{"pod on the rc endpoint", "POST", rcs, "application/yaml", fmt.Sprintf(podYAML, "nope", "1Mi"), 422, "Invalid", "this endpoint takes a ReplicationController", "kind"},
		{"rc on the replicaset endpoint", "POST", rss, "application/yaml", fmt.Sprintf(rcTemplateYAML, "rs", 1, "rs", "rs"), 422, "Invalid", "this endpoint takes a ReplicaSet", "kind"},
		{"name too long", "POST", pods, "application/yaml", fmt.Sprintf(podYAML, strings.Repeat("a", 254), "1Mi"), 422, "Invalid", "253", "metadata.name"},
		{"name not DNS-1123", "POST", pods, "application/yaml", fmt.Sprintf(podYAML, "Web_1", "1Mi"), 422, "Invalid", "RFC 1123", "metadata.name"},
		{"namespace not DNS-1123", "POST", base + "/api/v1/namespaces/Bad_NS/pods", "application/yaml", fmt.Sprintf(podYAML, "ok", "1Mi"), 422, "Invalid", "RFC 1123", "metadata.namespace"},
		{"unknown field", "POST", pods, "application/yaml", strings.Replace(fmt.Sprintf(podYAML, "typo", "1Mi"), "image:", "imagee: x\n    image:", 1), 422, "Invalid", "field not declared in schema", "spec.containers[0].imagee"},
		{"mistyped field", "POST", pods, "application/yaml", strings.Replace(fmt.Sprintf(podYAML, "typed", "1Mi"), "name: app", "name: [app]", 1), 422, "Invalid", "expected a string", "spec.containers[0].name"},
		{"negative memory", "POST", pods, "application/yaml", fmt.Sprintf(podYAML, "neg", "-1Gi"), 422, "Invalid", "must not be negative", "spec.containers[0].resources.requests.memory"},
		{"negative replicas", "POST", rcs, "application/yaml", fmt.Sprintf(rcTemplateYAML, "negrc", -1, "negrc", "negrc"), 422, "Invalid", "greater than or equal to 0", "spec.replicas"},
		{"negative scale", "PUT", rcs + "/keeprc/scale", "application/json", scale(-3, ""), 422, "Invalid", "greater than or equal to 0", "spec.replicas"},
		{"negative replicas by patch", "PATCH", rcs + "/keeprc", mergePatchType, `{"spec":{"replicas":-2}}`, 422, "Invalid", "greater than or equal to 0", "spec.replicas"},
		{"selector not matching the template", "POST", rcs, "application/yaml", fmt.Sprintf(rcTemplateYAML, "mismatch", 1, "a", "b"), 422, "Invalid", "does not match", "spec.template.metadata.labels"},
		{"stale resourceVersion on a pod", "PUT", pods + "/keep", "application/yaml", stale, 409, "Conflict", "has been modified", ""},
		{"stale resourceVersion on an rc", "PUT", rcs + "/keeprc", "application/yaml", staleRC, 409, "Conflict", "has been modified", ""},
		{"stale resourceVersion on a scale", "PUT", rcs + "/keeprc/scale", "application/json", scale(5, "1"), 409, "Conflict", "has been modified", ""},
		{"create of an existing name", "POST", pods, "application/yaml", fmt.Sprintf(podYAML, "keep", "64Mi"), 409, "AlreadyExists", `pods "keep" already exists`, ""},
		{"name in the body differs from the URL", "PUT", pods + "/keep", "application/yaml", fmt.Sprintf(podYAML, "other", "64Mi"), 422, "Invalid", "does not match the name in the URL", "metadata.name"},
		{"immutable field", "PUT", pods + "/keep", "application/yaml", fmt.Sprintf(podYAML, "keep", "128Mi"), 422, "Invalid", "immutable", "spec.containers[0].resources.requests.memory"},
		{"patch to another apiVersion", "PATCH", pods + "/keep", mergePatchType, `{"apiVersion":"v2"}`, 422, "Invalid", "must be v1", "apiVersion"},
		{"patch to another kind", "PATCH", pods + "/keep", mergePatchType, `{"kind":"Service"}`, 422, "Invalid", "must be Pod", "kind"},
		{"malformed patch", "PATCH", pods + "/keep", mergePatchType, `{"metadata":`, 400, "BadRequest", "", ""},
		{"malformed json patch", "PATCH", pods + "/keep", jsonPatchType, `[{"op":"explode","path":"/x"}]`, 400, "BadRequest", "", ""},
		{"garbage pod status", "PUT", pods + "/keep/status", "application/json", `{"status":`, 400, "BadRequest", "decode pod status", ""},
		{"huge pod status", "PUT", pods + "/keep/status", "application/json", `{"status":{"message":"` + strings.Repeat("x", maxBodyBytes) + `"}}`, 413, "RequestEntityTooLarge", "larger than", ""},
		{"garbage events", "POST", base + "/shoal/v1/events", "application/json", `{"events":[{`, 400, "BadRequest", "decode events", ""},
		{"huge events", "POST", base + "/shoal/v1/events", "application/json", `{"events":[{"message":"` + strings.Repeat("x", maxBodyBytes) + `"}]}`, 413, "RequestEntityTooLarge", "larger than", ""},
		{"invalid event", "POST", base + "/shoal/v1/events", "application/json", `{"events":[{"reason":"X","type":"Odd"}]}`, 422, "Invalid", "must be Normal or Warning", ""},
		{"watch from a resourceVersion that is not an index", "GET", pods + "?watch=1&resourceVersion=abc", "", "", 400, "BadRequest", `invalid resource version "abc"`, ""},
		{"label selector that does not parse", "GET", pods + "?labelSelector=a%20in%20(", "", "", 422, "Invalid", "labelSelector", ""},
		{"field selector on an unknown field", "GET", pods + "?fieldSelector=bogus.field=1", "", "", 400, "BadRequest", "field label not supported", ""},
		{"secret data that is not base64", "POST", ns + "/secrets", "application/json", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"token":"!!"}}`, 422, "Invalid", "must be base64", "data.token"},
		{"secret replaced with data that is not base64", "PUT", ns + "/secrets/keepsecret", "application/json", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"keepsecret"},"data":{"token":"!!"}}`, 422, "Invalid", "must be base64", "data.token"},
		{"huge patch on a secret", "PATCH", ns + "/secrets/keepsecret", mergePatchType, `{"data":{"token":"` + strings.Repeat("x", maxBodyBytes) + `"}}`, 413, "RequestEntityTooLarge", "larger than", ""},
		{"patch of a secret to data that is not base64", "PATCH", ns + "/secrets/keepsecret", mergePatchType, `{"data":{"token":"!!"}}`, 422, "Invalid", "must be base64", "data.token"},
		{"delete of a missing pod", "DELETE", pods + "/missing", "", "", 404, "NotFound", `pods "missing" not found`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, st, raw := request(t, c.method, c.url, c.contentType, c.body)
			if len(raw) > 600 {
				raw = append(raw[:600:600], "..."...)
			}
			if code != c.code || st.Kind != "Status" || st.Status != "Failure" || string(st.Reason) != c.reason || int(st.Code) != code {
				t.Fatalf("got HTTP %d %s, want %d %s: %s", code, st.Reason, c.code, c.reason, raw)
			}
			if !strings.Contains(st.Message, c.message) || st.Message == "" {
				t.Errorf("message %q does not say %q", st.Message, c.message)
			}
			if c.field != "" {
				var fields []string
				if st.Details != nil {
					for _, cause := range st.Details.Causes {
						fields = append(fields, cause.Field)
					}
				}
				if !contains(fields, c.field) {
					t.Errorf("causes name %v, want %s: %s", fields, c.field, raw)
				}
			}
			if after := storedState(t, base); after != before {
				t.Fatalf("stored state changed:\n%s", lineDiff(before, after))
			}
		})
	}
}

// Creates of one name race through Raft: the state machine decides, so
// exactly one wins and every other gets AlreadyExists; updates read at the
// same resourceVersion race the same way and the losers get Conflict.
// lineDiff lists the lines only one of a and b has.
func lineDiff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for l := range ma {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range mb {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func TestConcurrentConflictingWritesHaveOneWinner(t *testing.T) {
	base := startAgent(t, "racer", "2Gi")
	ns := base + "/api/v1/namespaces/default"
	const n = 8
	race := func(method, url, body string) map[string]int {
		var mu sync.Mutex
		out := map[string]int{}
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				code, st, _ := request(t, method, url, "application/yaml", strings.ReplaceAll(body, "@", fmt.Sprint(i)))
				mu.Lock()
				out[fmt.Sprintf("%d %s", code, st.Reason)]++
				mu.Unlock()
			}(i)
		}
		wg.Wait()
		return out
	}
	check := func(what string, got map[string]int, win string, lose string) {
		t.Helper()
		if got[win] != 1 || got[lose] != n-1 {
			t.Errorf("%s: %v, want one %q and %d %q", what, got, win, n-1, lose)
		}
	}

	// The pods differ in an annotation, so the winner is known by it.
	pod := strings.Replace(fmt.Sprintf(podYAML, "same", "16Mi"), "metadata: {name: same}", "metadata: {name: same, annotations: {writer: \"@\"}}", 1)
	check("pod creates", race("POST", ns+"/pods", pod), "201 ", "409 AlreadyExists")
	check("rc creates", race("POST", ns+"/replicationcontrollers", fmt.Sprintf(rcTemplateYAML, "samerc", 0, "samerc", "samerc")), "201 ", "409 AlreadyExists")
	rs := `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: samers}
spec:
  replicas: 0
  selector: {matchLabels: {app: samers}}
  template:
    metadata: {labels: {app: samers}}
    spec: {containers: [{name: app, image: "shoal.local/busybox:1"}]}
`
	check("replicaset creates", race("POST", base+"/apis/apps/v1/namespaces/default/replicasets", rs), "201 ", "409 AlreadyExists")

	var p api.Pod
	if err := getJSON(ns+"/pods/same", &p); err != nil {
		t.Fatal(err)
	}
	update := strings.Replace(fmt.Sprintf(podYAML, "same", "16Mi"), "metadata: {name: same}",
		fmt.Sprintf("metadata: {name: same, resourceVersion: %q, labels: {writer: \"@\"}}", p.ObjectMeta.ResourceVersion), 1)
	check("pod updates at one resourceVersion", race("PUT", ns+"/pods/same", update), "200 ", "409 Conflict")

	var rc api.ReplicationController
	if err := getJSON(ns+"/replicationcontrollers/samerc", &rc); err != nil {
		t.Fatal(err)
	}
	scale := fmt.Sprintf(`{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"samerc","namespace":"default","resourceVersion":%q},"spec":{"replicas":1@}}`, rc.ObjectMeta.ResourceVersion)
	// Every writer asks for another count (10..17): a scale to the count
	// already stored is a no-op that succeeds without a conflict check.
	check("scales at one resourceVersion", race("PUT", ns+"/replicationcontrollers/samerc/scale", scale), "200 ", "409 Conflict")

	// One of each survived, and only one.
	var l api.PodList
	if err := getJSON(base+"/api/v1/pods", &l); err != nil {
		t.Fatal(err)
	}
	same := 0
	for _, q := range l.Items {
		if q.ObjectMeta.Name == "same" {
			same++
		}
	}
	if same != 1 {
		t.Errorf("%d pods named same", same)
	}
}

// A pod no node can hold is accepted (it may fit later, when a node joins
// or others leave) and stays Pending; why is visible per node in its
// PodScheduled condition and in a FailedScheduling event.
func TestImpossiblePodIsPendingWithAPerNodeReason(t *testing.T) {
	base := startAgent(t, "tiny", "1Gi")
	pods := base + "/api/v1/namespaces/default/pods"
	if code, st := send(t, "POST", pods, fmt.Sprintf(podYAML, "giant", "64Gi")); code != http.StatusCreated {
		t.Fatalf("create: HTTP %d %+v", code, st)
	}
	const reason = "tiny: memory 64Gi requested, 1Gi free"
	eventually(t, "FailedScheduling event naming the node", func() bool {
		var l api.EventList
		if getJSON(base+"/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=giant", &l) != nil {
			return false
		}
		for _, e := range l.Items {
			if e.Reason == "FailedScheduling" && e.Type == api.EventWarning && strings.Contains(e.Message, reason) {
				return true
			}
		}
		return false
	})
	var p api.Pod
	if err := getJSON(pods+"/giant", &p); err != nil {
		t.Fatal(err)
	}
	c := podCondition(&p, "PodScheduled")
	if p.Status.Phase != api.PodPending || p.Spec.NodeName != "" || c == nil || c.Status != "False" || c.Reason != "Unschedulable" || !strings.Contains(c.Message, reason) {
		t.Fatalf("pod: phase %s node %q condition %+v", p.Status.Phase, p.Spec.NodeName, c)
	}
}
