package apiserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
)

// Events written as client-go's recorders write them: created under the
// client's name, patched for a repeat, selected by the fields kubectl
// describe sends, deleted; a bad one is 422 naming the field.
func TestEventsAreWrittenAndSelectedAsClientGoRecordersDo(t *testing.T) {
	base, _ := serviceAPI(t, "")
	coll := base + "/api/v1/namespaces/default/events"
	ev := func(name, obj, reason, typ string) string {
		return fmt.Sprintf(`{"apiVersion":"v1","kind":"Event","metadata":{"name":%q,"namespace":"default"},
		  "involvedObject":{"kind":"Pod","namespace":"default","name":%q,"uid":"u-%s"},"reason":%q,"message":"m","type":%q,
		  "source":{"component":"my-operator"},"firstTimestamp":"2026-12-06T10:00:00Z","lastTimestamp":"2026-12-06T10:00:00Z","count":1}`,
			name, obj, obj, reason, typ)
	}
	for _, b := range []string{ev("web.1", "web", "Synced", "Normal"), ev("db.1", "db", "Failed", "Warning")} {
		if code, out := do(t, "POST", coll, "application/json", "", b); code != http.StatusCreated {
			t.Fatalf("create: %d %s", code, out)
		}
	}
	if code, out := do(t, "POST", coll, "application/json", "", ev("web.1", "web", "Synced", "Normal")); code != http.StatusConflict {
		t.Fatalf("second create of web.1: %d %s, want 409", code, out)
	}
	// A repeat: the recorder patches count and lastTimestamp.
	patch := `{"count":2,"lastTimestamp":"2026-12-06T10:05:00Z","message":"m"}`
	if code, out := do(t, "PATCH", coll+"/web.1", "application/strategic-merge-patch+json", "", patch); code != http.StatusOK || !strings.Contains(string(out), `"count":2`) {
		t.Fatalf("patch: %d %s", code, out)
	}
	for q, want := range map[string]string{
		"fieldSelector=involvedObject.name%3Dweb,involvedObject.namespace%3Ddefault,involvedObject.uid%3Du-web": "[web.1]",
		"fieldSelector=involvedObject.kind%3D%3DPod":                                                            "[db.1 web.1]",
		"fieldSelector=type%21%3DNormal":                                                                        "[db.1]",
		"fieldSelector=reason%3DSynced,type%3DWarning":                                                          "[]",
		"fieldSelector=source%3Dmy-operator":                                                                    "[db.1 web.1]",
	} {
		code, out := do(t, "GET", coll+"?"+q, "", "", "")
		if got := names(t, out); code != http.StatusOK || fmt.Sprint(got) != want {
			t.Errorf("?%s: %d %v, want %s", q, code, got, want)
		}
	}
	if code, out := do(t, "GET", coll+"?fieldSelector=spec.x%3Dy", "", "", ""); code == http.StatusOK {
		t.Errorf("an unknown field selector was answered: %s", out)
	}
	bad := strings.Replace(ev("x.1", "x", "Synced", "Normal"), `"type":"Normal"`, `"type":"Odd"`, 1)
	if code, out := do(t, "POST", coll, "application/json", "", bad); code != http.StatusUnprocessableEntity || !strings.Contains(string(out), "type") {
		t.Fatalf("a bad type: %d %s, want 422 naming type", code, out)
	}
	if code, out := do(t, "DELETE", coll+"/db.1", "", "", ""); code != http.StatusOK {
		t.Fatalf("delete: %d %s", code, out)
	}
	_, out := do(t, "GET", base+"/api/v1/events", "", "", "")
	var l struct {
		Kind  string `json:"kind"`
		Items []struct {
			Count int `json:"count"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out, &l); err != nil || l.Kind != "EventList" || len(l.Items) != 1 || l.Items[0].Count != 2 {
		t.Fatalf("events after the delete: %s", out)
	}
}

// kubectl create -f of an Event, then get events and kubectl events show
// it with Kubernetes' columns.
func TestKubectlCreatesAndShowsEvents(t *testing.T) {
	base, _ := serviceAPI(t, "")
	run, dir := kubectlAgainst(t, base)
	f := dir + "/ev.yaml"
	if err := os.WriteFile(f, []byte("apiVersion: v1\nkind: Event\nmetadata: {name: web.1}\ninvolvedObject: {kind: Pod, name: web, namespace: default}\n"+
		"reason: Synced\nmessage: synced by my-operator\ntype: Normal\nlastTimestamp: \"2026-12-06T10:00:00Z\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run("create", "-f", f); err != nil {
		t.Fatalf("kubectl create -f event: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"get", "events"}, {"events"}} {
		out, err := run(args...)
		if err != nil || !strings.Contains(out, "Synced") || !strings.Contains(strings.ToLower(out), "pod/web") || !strings.Contains(out, "synced by my-operator") {
			t.Errorf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
