package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const serviceManifest = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
`

// fakeServices answers like the API: a first POST creates, a second is
// AlreadyExists, PUT replaces, GET lists what was stored with the
// ClusterIP the fleet allocated.
func fakeServices(t *testing.T) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var calls []string
	stored := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		calls = append(calls, r.Method+" "+r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "POST" && r.URL.Path == "/api/v1/namespaces/default/services" && !stored:
			if !strings.Contains(string(body), `"targetPort":8080`) {
				t.Errorf("POST body %s", body)
			}
			stored = true
			w.WriteHeader(http.StatusCreated)
			w.Write(body)
		case r.Method == "POST":
			w.WriteHeader(http.StatusConflict)
			w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"AlreadyExists","code":409,"message":"services \"web\" already exists"}`))
		case r.Method == "PUT" && r.URL.Path == "/api/v1/namespaces/default/services/web":
			w.Write(body)
		case r.Method == "GET" && r.URL.Path == "/api/v1/namespaces/default/services":
			w.Write([]byte(`{"kind":"ServiceList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"web","namespace":"default"},
"spec":{"type":"ClusterIP","clusterIP":"10.96.1.0","clusterIPs":["10.96.1.0"],"selector":{"app":"web"},"ports":[{"port":80,"protocol":"TCP","targetPort":8080}]}}]}`))
		case r.Method == "DELETE" && r.URL.Path == "/api/v1/namespaces/default/services/web":
			w.Write([]byte(`{}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestApplyGetAndDeleteAService(t *testing.T) {
	srv, calls := fakeServices(t)
	f := filepath.Join(t.TempDir(), "svc.yaml")
	if err := os.WriteFile(f, []byte(serviceManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"service/web created", "service/web configured"} {
		if out, err := runCLI(t, "--addr", srv.URL, "apply", "-f", f); err != nil || !strings.Contains(out, want) {
			t.Fatalf("apply: %v %q, want %q", err, out, want)
		}
	}
	out, err := runCLI(t, "--addr", srv.URL, "get", "svc", "-o", "wide")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR" ||
		!strings.HasPrefix(strings.Join(strings.Fields(lines[1]), " "), "web ClusterIP 10.96.1.0 <none> 80/TCP") || !strings.HasSuffix(lines[1], "app=web") {
		t.Errorf("get svc -o wide:\n%s", out)
	}
	if out, _ := runCLI(t, "--addr", srv.URL, "get", "services"); strings.Contains(out, "SELECTOR") {
		t.Errorf("get services without -o wide shows the selector:\n%s", out)
	}
	if out, err := runCLI(t, "--addr", srv.URL, "delete", "svc", "web"); err != nil || !strings.Contains(out, `service "web" deleted`) {
		t.Errorf("delete svc: %v %q", err, out)
	}
	want := "POST /api/v1/namespaces/default/services,POST /api/v1/namespaces/default/services,PUT /api/v1/namespaces/default/services/web," +
		"GET /api/v1/namespaces/default/services,GET /api/v1/namespaces/default/services,DELETE /api/v1/namespaces/default/services/web"
	if got := strings.Join(*calls, ","); got != want {
		t.Errorf("requests\n %s\nwant\n %s", got, want)
	}
}

// Endpoints and EndpointSlices are the controller's: apply refuses them
// before anything is sent.
func TestApplyRefusesEndpointsBeforeSendingAnything(t *testing.T) {
	srv, calls := fakeServices(t)
	f := filepath.Join(t.TempDir(), "ep.yaml")
	if err := os.WriteFile(f, []byte("apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: web\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "--addr", srv.URL, "apply", "-f", f)
	if err == nil || !strings.Contains(err.Error(), "endpoints controller") {
		t.Errorf("apply Endpoints: %v %q, want a refusal naming the controller", err, out)
	}
	if len(*calls) != 0 {
		t.Errorf("requests sent: %v", *calls)
	}
}
