package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// These tests drive one real in-process agent (real Raft, real gossip) the
// way kubectl does: content types, patches, watches and Status errors.

func do(t *testing.T, method, url, contentType, accept, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"

func TestKubectlShapedRequestsOnOneAgent(t *testing.T) {
	base := startAgent(t, "kube", "4Gi")
	pods := base + "/api/v1/namespaces/default/pods"
	if code, st := send(t, "POST", pods, fmt.Sprintf(podYAML, "web", "64Mi")); code != http.StatusCreated {
		t.Fatalf("create: %d %+v", code, st)
	}

	t.Run("create again is AlreadyExists in kubectl's words", func(t *testing.T) {
		code, st := send(t, "POST", pods, fmt.Sprintf(podYAML, "web", "64Mi"))
		if code != http.StatusConflict || st.Reason != "AlreadyExists" || st.Message != `pods "web" already exists` {
			t.Errorf("%d %+v", code, st)
		}
	})

	t.Run("generateName gives a created pod its name", func(t *testing.T) {
		manifest := strings.Replace(fmt.Sprintf(podYAML, "x", "64Mi"), "metadata: {name: x}", "metadata: {generateName: job-}", 1)
		code, b := do(t, "POST", pods, "application/yaml", "", manifest)
		p := decode[api.Pod](t, b)
		if code != http.StatusCreated || !strings.HasPrefix(p.ObjectMeta.Name, "job-") || len(p.ObjectMeta.Name) != len("job-")+5 {
			t.Errorf("%d %s", code, b)
		}
		send(t, "DELETE", pods+"/"+p.ObjectMeta.Name+"?gracePeriodSeconds=0", "") // this agent runs no pods: nothing would stop it
	})

	t.Run("missing pod is NotFound", func(t *testing.T) {
		code, st := send(t, "GET", pods+"/nope", "")
		if code != http.StatusNotFound || st.Reason != "NotFound" || st.Message != `pods "nope" not found` || st.Details.Kind != "pods" {
			t.Errorf("%d %+v", code, st)
		}
	})

	t.Run("list as Table", func(t *testing.T) {
		code, b := do(t, "GET", pods+"?limit=500", "", tableAccept, "")
		tbl := decode[table](t, b)
		if code != 200 || tbl.Kind != "Table" || len(tbl.Rows) != 1 || tbl.Rows[0].Cells[0] != "web" || tbl.ColumnDefinitions[1].Name != "Ready" {
			t.Errorf("%d %s", code, b)
		}
		code, b = do(t, "GET", pods+"/web", "", tableAccept, "")
		if tbl := decode[table](t, b); code != 200 || len(tbl.Rows) != 1 {
			t.Errorf("one pod as Table: %d %s", code, b)
		}
		code, b = do(t, "GET", pods, "", "application/json", "")
		if l := decode[api.PodList](t, b); code != 200 || l.Kind != "PodList" || len(l.Items) != 1 {
			t.Errorf("plain list: %d %s", code, b)
		}
	})

	t.Run("merge patch labels and keeps the rest", func(t *testing.T) {
		code, b := do(t, "PATCH", pods+"/web", mergePatchType, "", `{"metadata":{"labels":{"tier":"back"},"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"}}}`)
		p := decode[api.Pod](t, b)
		if code != 200 || p.ObjectMeta.Labels["tier"] != "back" || p.ObjectMeta.Annotations["kubectl.kubernetes.io/last-applied-configuration"] != "{}" || p.Spec.Containers[0].Image != "shoal.local/busybox:1" {
			t.Errorf("%d %s", code, b)
		}
	})

	t.Run("strategic merge patch changes one container's image", func(t *testing.T) {
		code, b := do(t, "PATCH", pods+"/web", strategicPatchType, "", `{"spec":{"$setElementOrder/containers":[{"name":"app"}],"containers":[{"name":"app","image":"shoal.local/busybox:2"}]}}`)
		p := decode[api.Pod](t, b)
		if code != 200 || p.Spec.Containers[0].Image != "shoal.local/busybox:2" || p.ObjectMeta.Generation != 2 {
			t.Errorf("%d %s", code, b)
		}
	})

	t.Run("patch that makes the pod invalid is Invalid with the field", func(t *testing.T) {
		code, b := do(t, "PATCH", pods+"/web", jsonPatchType, "", `[{"op":"add","path":"/spec/bogus","value":1}]`)
		st := decode[api.Status](t, b)
		if code != http.StatusUnprocessableEntity || st.Reason != "Invalid" || st.Details == nil || len(st.Details.Causes) == 0 || st.Details.Causes[0].Field != "spec.bogus" {
			t.Errorf("%d %s", code, b)
		}
		code, st = send(t, "POST", pods, strings.Replace(fmt.Sprintf(podYAML, "bad", "64Mi"), "spec:", "spec:\n  bogus: 1", 1))
		if code != http.StatusUnprocessableEntity || st.Details == nil || st.Details.Kind != "Pod" || st.Details.Name != "bad" || st.Message != `Pod "bad" is invalid: spec.bogus: Unsupported value: field not declared in schema` {
			t.Errorf("create with an unknown field: %d %+v", code, st)
		}
	})

	t.Run("server-side apply needs a field manager and names a bad body", func(t *testing.T) {
		// The whole of server-side apply is in agent/apiserver/kube_apply_test.go.
		code, b := do(t, "PATCH", pods+"/web", applyPatchType, "", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"}}`)
		if st := decode[api.Status](t, b); code != http.StatusUnprocessableEntity || !strings.Contains(st.Message, "fieldManager") {
			t.Errorf("without fieldManager: %d %s", code, b)
		}
		code, b = do(t, "PATCH", pods+"/web?fieldManager=t", applyPatchType, "", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"web"}}`)
		if st := decode[api.Status](t, b); code != http.StatusUnprocessableEntity || !strings.Contains(st.Message, "must be a v1 Pod") {
			t.Errorf("another kind: %d %s", code, b)
		}
	})

	t.Run("server-side dry run answers the write and stores nothing", func(t *testing.T) {
		_, b := do(t, "GET", pods+"/web", "", "", "")
		before := decode[api.Pod](t, b)
		code, b := do(t, "PATCH", pods+"/web?dryRun=All", mergePatchType, "", `{"metadata":{"labels":{"dry":"run"}}}`)
		if p := decode[api.Pod](t, b); code != http.StatusOK || p.ObjectMeta.Labels["dry"] != "run" {
			t.Errorf("dry-run patch: %d %s", code, b)
		}
		code, b = do(t, "POST", pods+"?dryRun=All", "application/yaml", "", fmt.Sprintf(podYAML, "dry", "64Mi"))
		if p := decode[api.Pod](t, b); code != http.StatusCreated || p.ObjectMeta.Name != "dry" {
			t.Errorf("dry-run create: %d %s", code, b)
		}
		// Validation runs as for a real write.
		code, b = do(t, "PATCH", pods+"/web?dryRun=All", mergePatchType, "", `{"metadata":{"labels":{"bad key!":"x"}}}`)
		if code != http.StatusUnprocessableEntity {
			t.Errorf("invalid dry-run patch: %d %s", code, b)
		}
		code, b = do(t, "DELETE", pods+"/web?dryRun=All", "", "", "")
		if code != http.StatusOK {
			t.Errorf("dry-run delete: %d %s", code, b)
		}
		if code, b := do(t, "PATCH", pods+"/web?dryRun=Some", mergePatchType, "", `{}`); code != http.StatusBadRequest || !strings.Contains(string(b), `Unsupported value: \"Some\"`) {
			t.Errorf("dryRun=Some: %d %s", code, b)
		}
		_, b = do(t, "GET", pods+"/web", "", "", "")
		if p := decode[api.Pod](t, b); p.ObjectMeta.ResourceVersion != before.ObjectMeta.ResourceVersion || p.ObjectMeta.Labels["dry"] != "" {
			t.Errorf("a dry run was stored: %+v", p.ObjectMeta)
		}
		if code, _ := do(t, "GET", pods+"/dry", "", "", ""); code != http.StatusNotFound {
			t.Errorf("a dry-run create was stored: %d", code)
		}
	})

	t.Run("stale resourceVersion is Conflict in PUT and PATCH", func(t *testing.T) {
		_, b := do(t, "GET", pods+"/web", "", "", "")
		p := decode[api.Pod](t, b)
		p.ObjectMeta.ResourceVersion = "1"
		body, _ := json.Marshal(p)
		code, b := do(t, "PUT", pods+"/web", "application/json", "", string(body))
		st := decode[api.Status](t, b)
		if code != http.StatusConflict || st.Reason != "Conflict" || !strings.HasPrefix(st.Message, `Operation cannot be fulfilled on pods "web": `) {
			t.Errorf("PUT: %d %s", code, b)
		}
		code, b = do(t, "PATCH", pods+"/web", mergePatchType, "", `{"metadata":{"resourceVersion":"1","labels":{"x":"y"}}}`)
		if st := decode[api.Status](t, b); code != http.StatusConflict || st.Reason != "Conflict" {
			t.Errorf("PATCH: %d %s", code, b)
		}
	})

	t.Run("delete with DeleteOptions body", func(t *testing.T) {
		if code, st := send(t, "POST", pods, fmt.Sprintf(podYAML, "gone", "64Mi")); code != http.StatusCreated {
			t.Fatalf("create: %d %+v", code, st)
		}
		code, b := do(t, "DELETE", pods+"/gone", "application/json", "", `{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background","gracePeriodSeconds":0}`)
		if code != 200 {
			t.Errorf("%d %s", code, b)
		}
		if code, _ := do(t, "GET", pods+"/gone", "", "", ""); code != http.StatusNotFound {
			t.Errorf("after delete: %d", code)
		}
	})
}

func TestWatchStreamsAddedModifiedDeleted(t *testing.T) {
	base := startAgent(t, "watch", "4Gi")
	pods := base + "/api/v1/namespaces/default/pods"
	code, b := do(t, "GET", pods, "", "", "")
	if code != 200 {
		t.Fatalf("list: %d %s", code, b)
	}
	rv := decode[api.PodList](t, b).ListMeta.ResourceVersion
	if code, b := do(t, "GET", pods+"?watch=1&fieldSelector=spec.hostname%3Dx", "", "", ""); code != http.StatusBadRequest || !strings.Contains(string(b), "field label not supported: spec.hostname") {
		t.Errorf("watch with a bad selector: %d %s", code, b)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", pods+"?watch=true&fieldSelector=metadata.name%3Dw&resourceVersion="+rv, nil)
	req.Header.Set("Accept", tableAccept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("watch: %d", resp.StatusCode)
	}
	events := make(chan watchEvent)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev struct {
				Type   string `json:"type"`
				Object table  `json:"object"`
			}
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				select {
				case events <- watchEvent{Type: ev.Type, Object: ev.Object}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	next := func(want string) table {
		t.Helper()
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("watch ended before %s", want)
			}
			tbl := ev.Object.(table)
			if ev.Type != want || len(tbl.Rows) != 1 || tbl.Rows[0].Cells[0] != "w" {
				t.Fatalf("event %s %+v, want %s of pod w", ev.Type, tbl, want)
			}
			return tbl
		case <-ctx.Done():
			t.Fatalf("no %s event", want)
		}
		return table{}
	}

	// An unrelated pod is filtered out by the field selector.
	send(t, "POST", pods, fmt.Sprintf(podYAML, "other", "64Mi"))
	if code, st := send(t, "POST", pods, fmt.Sprintf(podYAML, "w", "64Mi")); code != http.StatusCreated {
		t.Fatalf("create: %d %+v", code, st)
	}
	next("ADDED")
	if code, b := do(t, "PATCH", pods+"/w", mergePatchType, "", `{"metadata":{"labels":{"a":"b"}}}`); code != 200 {
		t.Fatalf("patch: %d %s", code, b)
	}
	// The pod is also bound by the leader; label change or binding, each
	// is a MODIFIED of w until the deletion.
	if code, _ := do(t, "DELETE", pods+"/w?gracePeriodSeconds=0", "", "", ""); code != 200 { // no node side here to stop it
		t.Fatalf("delete: %d", code)
	}
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("watch ended before DELETED")
			}
			if ev.Type == "DELETED" {
				return
			}
			if ev.Type != "MODIFIED" {
				t.Fatalf("event %s before DELETED", ev.Type)
			}
		case <-ctx.Done():
			t.Fatal("no DELETED event")
		}
	}
}

func TestPatchThroughGetAndPutForRoutesWithoutTheirOwnPatch(t *testing.T) {
	base := startAgent(t, "rcpatch", "4Gi")
	rcs := base + "/api/v1/namespaces/default/replicationcontrollers"
	rc := `{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"front"},
	  "spec":{"replicas":0,"selector":{"app":"front"},"template":{"metadata":{"labels":{"app":"front"}},
	  "spec":{"containers":[{"name":"main","image":"shoal.local/busybox:1"}]}}}}`
	if code, b := do(t, "POST", rcs, "application/json", "", rc); code != http.StatusCreated {
		t.Fatalf("create rc: %d %s", code, b)
	}
	// kubectl scale: a merge patch of the scale subresource.
	code, b := do(t, "PATCH", rcs+"/front/scale", mergePatchType, "", `{"spec":{"replicas":2}}`)
	if code != 200 {
		t.Fatalf("patch scale: %d %s", code, b)
	}
	_, b = do(t, "GET", rcs+"/front", "", "", "")
	if n := decode[jsonObj](t, b).num("spec", "replicas"); n != 2 {
		t.Errorf("replicas after scale = %d, want 2: %s", n, b)
	}
	// kubectl label: a merge patch of the object; the rest stays.
	code, b = do(t, "PATCH", rcs+"/front", mergePatchType, "", `{"metadata":{"labels":{"team":"a"}}}`)
	got := decode[map[string]any](t, b)
	md, _ := got["metadata"].(map[string]any)
	labels, _ := md["labels"].(map[string]any)
	if code != 200 || labels["team"] != "a" || got["spec"].(map[string]any)["selector"].(map[string]any)["app"] != "front" {
		t.Errorf("patch rc: %d %s", code, b)
	}
	// A stale resourceVersion named in the patch is the caller's conflict.
	code, b = do(t, "PATCH", rcs+"/front", mergePatchType, "", `{"metadata":{"resourceVersion":"1","labels":{"team":"b"}}}`)
	if st := decode[api.Status](t, b); code != http.StatusConflict || st.Reason != "Conflict" {
		t.Errorf("stale patch: %d %s", code, b)
	}
	if code, b := do(t, "PATCH", rcs+"/missing", mergePatchType, "", `{}`); code != http.StatusNotFound {
		t.Errorf("patch of a missing rc: %d %s", code, b)
	}
}
