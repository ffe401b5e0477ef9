package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// shoal apply creates a Job and a CronJob at their batch/v1 paths, and
// replaces them when they exist.
func TestApplyCreatesAndReplacesJobsAndCronJobs(t *testing.T) {
	var (
		mu     sync.Mutex
		calls  []string
		stored = map[string]bool{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		calls = append(calls, r.Method+" "+r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "POST" && !stored[r.URL.Path]:
			stored[r.URL.Path] = true
			w.WriteHeader(http.StatusCreated)
			w.Write(body)
		case r.Method == "POST":
			w.WriteHeader(http.StatusConflict)
			w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"AlreadyExists","code":409}`))
		case r.Method == "PUT":
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	f := filepath.Join(t.TempDir(), "batch.yaml")
	const tmpl = `{spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}`
	if err := os.WriteFile(f, []byte("apiVersion: batch/v1\nkind: Job\nmetadata: {name: pi}\nspec: {template: "+tmpl+"}\n---\n"+
		"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: tick}\nspec: {schedule: '@hourly', jobTemplate: {spec: {template: "+tmpl+"}}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"job/pi created\ncronjob/tick created", "job/pi configured\ncronjob/tick configured"} {
		if out, err := runCLI(t, "--addr", srv.URL, "apply", "-f", f); err != nil || !strings.Contains(out, want) {
			t.Fatalf("apply: %v %q, want %q", err, out, want)
		}
	}
	want := "POST /apis/batch/v1/namespaces/default/jobs,POST /apis/batch/v1/namespaces/default/cronjobs," +
		"POST /apis/batch/v1/namespaces/default/jobs,PUT /apis/batch/v1/namespaces/default/jobs/pi," +
		"POST /apis/batch/v1/namespaces/default/cronjobs,PUT /apis/batch/v1/namespaces/default/cronjobs/tick"
	if got := strings.Join(calls, ","); got != want {
		t.Errorf("requests\n %s\nwant\n %s", got, want)
	}
}
