package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// rollingReplicas and rollingMaxUnavailable are the rolling update
// benchmark's Deployment: 30 replicas, Kubernetes' default budgets (25%
// surge, 25% unavailable: at most 7 below 30 Ready, floor of 7.5).
const (
	rollingReplicas       = 30
	rollingMaxUnavailable = 7
)

// rollingManifest is the benchmarked Deployment: a readiness probe that
// passes once the container has written its marker, so a pod counts as
// Ready only when its probe said so.
func rollingManifest(img string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: rolling}
spec:
  replicas: %d
  selector: {matchLabels: {app: rolling}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 25%%, maxUnavailable: 25%%}
  template:
    metadata: {labels: {app: rolling}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: %s
        command: ["sh", "-c", "touch /tmp/ready; exec sleep 100000"]
        readinessProbe: {exec: {command: ["cat", "/tmp/ready"]}, periodSeconds: 1}
`, rollingReplicas, img)
}

// TestBenchRollingUpdate: on a 3-node lab, a Deployment of 30 replicas
// with a readiness probe is rolled to another image with `kubectl set
// image` (alternating between two, one roll per run); the time is from
// the command to `kubectl rollout status` returning, and a sampler counts
// the Ready, not terminating pods through the API all along (every
// ~100 ms): the least it saw is recorded, and must never be below
// replicas - maxUnavailable.
func TestBenchRollingUpdate(t *testing.T) {
	requireBench(t)
	f := startFleet(t, labName("br"), "--nodes", "3")
	f.importBusybox()
	const image2 = "shoal.local/busybox:2"
	archive := filepath.Join(t.TempDir(), "busybox2.tar")
	f.run("image", "build-busybox", "-o", archive, "--ref", image2)
	f.run("image", "import", archive)
	k := kubectlOn(t, f)
	k.ok("apply", "-f", k.file("rolling.yaml", rollingManifest(image)))
	k.ok("rollout", "status", "deployment/rolling", "--timeout=5m")
	images := []string{image2, image}
	for run := 1; run <= benchRuns(t, 3); run++ {
		img := images[(run-1)%2]
		stop := make(chan struct{})
		var wg sync.WaitGroup
		minReady, samples := rollingReplicas, 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if pods, err := f.podsOf("rolling", nil); err == nil {
					minReady, samples = min(minReady, readyPods(pods)), samples+1
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		start := time.Now()
		k.ok("set", "image", "deployment/rolling", "main="+img)
		out := k.ok("rollout", "status", "deployment/rolling", "--timeout=5m")
		total := time.Since(start)
		close(stop)
		wg.Wait()
		if !strings.Contains(out, "successfully rolled out") {
			t.Fatalf("run %d: rollout status:\n%s", run, out)
		}
		if minReady < rollingReplicas-rollingMaxUnavailable {
			t.Fatalf("run %d: %d Ready pods seen while rolling, below %d - %d", run, minReady, rollingReplicas, rollingMaxUnavailable)
		}
		record(t, "rolling-update", map[string]any{"run": run, "replicas": rollingReplicas, "nodes": 3,
			"max_unavailable": rollingMaxUnavailable, "total_s": seconds(total), "min_ready": minReady, "samples": samples})
	}
}

// readyPods counts the pods whose Ready condition is True and that are
// not being deleted.
func readyPods(pods []api.Pod) int {
	n := 0
	for i := range pods {
		if pods[i].ObjectMeta.DeletionTimestamp != nil {
			continue
		}
		for _, c := range pods[i].Status.Conditions {
			if c.Type == "Ready" && c.Status == "True" {
				n++
			}
		}
	}
	return n
}
