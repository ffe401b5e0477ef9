package e2e

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/deploy/lab"
	"github.com/shoal-dev/shoal/deploy/lab/chaos"
)

// TestLoad puts SHOAL_LOAD_PODS (default 1000) sleep pods on a 5-node
// lab through one RC, scales it to 0 and back up, and reports how long
// each step took, that containerd matches the state with no pod or IP
// twice, and the agents' peak memory. It is long (tens of minutes on two
// cores), so it runs only with SHOAL_LOAD=1: `make load`.
func TestLoad(t *testing.T) {
	if os.Getenv("SHOAL_LOAD") != "1" {
		t.Skip("set SHOAL_LOAD=1 (with SHOAL_E2E=1, as root) to run the load test")
	}
	pods := 1000
	if s := os.Getenv("SHOAL_LOAD_PODS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("SHOAL_LOAD_PODS=%q: want a positive number", s)
		}
		pods = n
	}
	// 1,000 pods on 5 nodes is 200 a node: more than the kubelet's 110,
	// less than a node's /24 of pod IPs.
	maxPods := max(110, (pods+4)/5+20)
	f := startFleet(t, labName("ld"), "--nodes", "5", "--node-memory", "16Gi", "--node-cpu", "64", "--max-pods", strconv.Itoa(maxPods))
	f.importBusybox()
	fl, err := chaos.NewFleet(f.labState())
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	rss := newRSSSampler(fl)
	go rss.run(ctx)

	f.apply(fmt.Sprintf(`apiVersion: v1
kind: ReplicationController
metadata: {name: load}
spec:
  replicas: %d
  template:
    metadata: {labels: {app: load}}
    spec:
      containers:
      - name: c
        image: %s
        command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
`, pods, image))
	steps := []struct {
		what     string
		replicas int
	}{{"up", pods}, {"down to 0", 0}, {"up again", pods}}
	var report []string
	for i, s := range steps {
		start := time.Now()
		if i > 0 {
			f.run("scale", "rc", "load", "--replicas", strconv.Itoa(s.replicas))
		}
		f.waitLoad(ctx, fl, s.replicas)
		took := time.Since(start)
		peaks := rss.takePeaks()
		report = append(report, fmt.Sprintf("%-10s %5d pods in %-8v agents' peak RSS %s", s.what, s.replicas, took.Round(time.Second), peaks))
		t.Logf("load: %s", report[len(report)-1])
	}
	t.Logf("load summary (%d pods, 5 nodes):\n%s", pods, strings.Join(report, "\n"))
	// Nothing of 1,000 pods is left once the lab is down.
	f.run("lab", "down", f.name, "--state-root", f.stateRoot)
	left, err := lab.Leftovers(ctx, f.stateRoot, f.name, "")
	if err != nil || len(left) > 0 {
		t.Errorf("left after lab down (%v): %v", err, left)
	}
	// Memory stays bounded: the second scale-up costs the agents no more
	// than the first did (plus slack for the Go heap's growth).
	first, again := rss.peakOf(0), rss.peakOf(2)
	for node, p := range again {
		if p > 2*first[node]+64<<20 {
			t.Errorf("agent %s grew from %d MiB (first scale-up) to %d MiB (second)", node, first[node]>>20, p>>20)
		}
	}
}

// waitLoad waits until the RC has want pods, all Running, containerd runs
// exactly those, and no IP is held twice; a broken fleet fails it.
func (f *fleet) waitLoad(ctx context.Context, fl *chaos.Fleet, want int) {
	f.t.Helper()
	deadline := time.Now().Add(45 * time.Minute)
	var last string
	for time.Now().Before(deadline) {
		o, err := fl.Observe(ctx, nil, nil)
		if err != nil {
			last = err.Error()
		} else {
			running := 0
			for i := range o.Pods {
				if o.Pods[i].Status.Phase == api.PodRunning {
					running++
				}
			}
			bad := append(chaos.ContainerdMismatch(o), chaos.DuplicateIPs(o)...)
			ran := 0
			for _, m := range o.Running {
				ran += len(m)
			}
			last = fmt.Sprintf("%d pods in the state, %d Running, %d running in containerd, %d findings %v", len(o.Pods), running, ran, len(bad), head(bad, 3))
			if len(o.Pods) == want && running == want && ran == want && len(bad) == 0 {
				return
			}
		}
		time.Sleep(3 * time.Second)
	}
	f.t.Fatalf("never %d pods Running and matching containerd: %s", want, last)
}

func head(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// rssSampler keeps each agent's peak resident memory per step.
type rssSampler struct {
	fl    *chaos.Fleet
	mu    sync.Mutex
	cur   map[string]int64
	steps []map[string]int64
}

func newRSSSampler(fl *chaos.Fleet) *rssSampler {
	return &rssSampler{fl: fl, cur: map[string]int64{}}
}

func (s *rssSampler) run(ctx context.Context) {
	for {
		s.mu.Lock()
		for _, n := range s.fl.NodeNames() {
			s.cur[n] = max(s.cur[n], s.fl.AgentRSS(n))
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// takePeaks closes the current step and describes its peaks.
func (s *rssSampler) takePeaks() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.fl.NodeNames() {
		s.cur[n] = max(s.cur[n], s.fl.AgentRSS(n))
	}
	s.steps = append(s.steps, s.cur)
	var parts []string
	for n, v := range s.cur {
		parts = append(parts, fmt.Sprintf("%s=%dMiB", n, v>>20))
	}
	sort.Strings(parts)
	s.cur = map[string]int64{}
	return strings.Join(parts, " ")
}

func (s *rssSampler) peakOf(step int) map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.steps[step]
}
