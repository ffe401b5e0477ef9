package e2e

import (
	"fmt"
	"testing"
	"time"
)

// TestBenchDaemonSet: on a 5-node lab, apply a DaemonSet with kubectl and
// time each node's pod from the apply to Running (first seen so by polling
// every 100ms), and the whole set; the DaemonSet is deleted and its pods
// gone between runs.
func TestBenchDaemonSet(t *testing.T) {
	requireBench(t)
	const nodes = 5
	f := startFleet(t, labName("bd"), "--nodes", fmt.Sprint(nodes))
	f.importBusybox()
	k := kubectlOn(t, f)
	for run := 1; run <= benchRuns(t, 3); run++ {
		app := fmt.Sprintf("ds%d", run)
		manifest := k.file(app+".yaml", daemonSetManifest(app, ""))
		start := time.Now()
		k.ok("apply", "-f", manifest)
		seen := f.waitAppRunning(app, nodes, nil, start)
		total := time.Since(start)
		pods, err := f.podsOf(app, nil)
		if err != nil {
			t.Fatal(err)
		}
		on := map[string]bool{}
		for _, p := range pods {
			on[p.Spec.NodeName] = true
		}
		if len(on) != nodes {
			t.Fatalf("run %d: %d pods on %d nodes, want one on each of %d", run, len(pods), len(on), nodes)
		}
		recordStart(t, "daemonset-start", run, nodes, nodes, seen, total)
		k.ok("delete", "daemonset", app)
		f.waitAppGone(app)
	}
}
