package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The daily-use path on a real fleet: relabel a running pod, read the
// fleet's metrics over HTTP (probe failures included), and take a state
// backup.
func TestLabelMetricsAndSnapshotOnARealFleet(t *testing.T) {
	f := startFleet(t, labName("pe"), "--nodes", "1")
	f.importBusybox()
	f.apply(`apiVersion: v1
kind: Pod
metadata: {name: ops, labels: {app: ops}}
spec:
  containers:
  - name: app
    image: shoal.local/busybox:1
    command: ["sleep", "3600"]
    readinessProbe:
      exec: {command: ["false"]}
      periodSeconds: 1
`)
	f.waitPod("ops", "running", running)

	f.run("label", "pod", "ops", "tier=web")
	if out := f.run("get", "pods", "-l", "tier=web", "-o", "name"); !strings.Contains(out, "ops") {
		t.Fatalf("pod not found by its new label: %q", out)
	}
	if out, err := f.try("label", "pod", "ops", "tier=db"); err == nil || !strings.Contains(out, "--overwrite") {
		t.Fatalf("changing a label without --overwrite: %v %s", err, out)
	}
	f.run("label", "pod", "ops", "tier=db", "--overwrite")
	f.run("label", "pod", "ops", "app-")
	if p := f.waitPod("ops", "relabelled", running); p.ObjectMeta.Labels["tier"] != "db" || p.ObjectMeta.Labels["app"] != "" {
		t.Fatalf("labels %v", p.ObjectMeta.Labels)
	}

	var addr string
	for _, kv := range f.env {
		if v, ok := strings.CutPrefix(kv, "SHOAL_ADDR="); ok {
			addr = v
		}
	}
	var text string
	deadline := time.Now().Add(60 * time.Second)
	for {
		text = scrapeMetrics(t, addr)
		if regexp.MustCompile(`(?m)^shoal_pods\{phase="Running"\} 1$`).MatchString(text) &&
			regexp.MustCompile(`(?m)^shoal_container_restarts_total\{container="app",namespace="default",node="[^"]+",pod="ops"\} 0$`).MatchString(text) &&
			regexp.MustCompile(`(?m)^shoal_reconcile_duration_seconds_count [1-9]`).MatchString(text) &&
			// The readiness probe always fails: counted as Unhealthy
			// events, and the container reported not ready.
			regexp.MustCompile(`(?m)^shoal_pod_events_total\{reason="Unhealthy",type="Warning"\} [1-9]`).MatchString(text) &&
			regexp.MustCompile(`(?m)^shoal_containers_ready\{ready="false"\} 1$`).MatchString(text) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics never showed the running pod:\n%s", grepShoal(text))
		}
		time.Sleep(500 * time.Millisecond)
	}

	backup := filepath.Join(t.TempDir(), "state.json")
	f.run("snapshot", "save", backup)
	b, err := os.ReadFile(backup)
	if err != nil || !strings.Contains(string(b), `"default/ops"`) {
		t.Fatalf("snapshot without the pod: %v", err)
	}
}

func scrapeMetrics(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get(addr + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grepShoal(text string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "shoal_") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
