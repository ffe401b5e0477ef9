package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// TestPlacementRate measures shoal's leader placing a ReplicationController
// of N replicas on a fleet of hollow nodes, the shoal side of Nomad's
// placement benchmark (e2e/ref_nomad_place_test.go): SHOAL_PLACE_NODES
// nodes (default 10, the Nomad lab's clients), 3 of them Raft seats; for
// each N in SHOAL_PLACE_COUNTS (default 1000,10000), on a fresh fleet each
// run, one RC of N replicas (requests 10m CPU, 10Mi memory) is POSTed to
// a node without a seat, and the run is timed until the leader's state
// holds N pods of it, each bound to a node. Each node takes 2,000 pods
// with a /21 pod block, so 10,000 fit 10 nodes (the defaults, 110 pods
// and a /24, hold 1,100). The hollow runtimes start the bound pods
// meanwhile (in memory: no container, no network), and their status
// reports go through the same Raft as the bindings, which Nomad's
// stopped clients do not add. Figures, not assertions: it fails only when
// the fleet does not form; a run not done within SHOAL_PLACE_WAIT_S
// (default 480) is recorded as such, with how many pods were bound. Runs with SHOAL_BENCH=1 (bench/run.sh ref);
// one JSON line per run, bench place-N, to SHOAL_BENCH_OUT.
func TestPlacementRate(t *testing.T) {
	if os.Getenv("SHOAL_BENCH") != "1" {
		t.Skip("set SHOAL_BENCH=1 to run the placement rate benchmark (bench/run.sh ref)")
	}
	nodes := placeEnv(t, "SHOAL_PLACE_NODES", "10")[0]
	counts := placeEnv(t, "SHOAL_PLACE_COUNTS", "1000,10000")
	runs := placeEnv(t, "SHOAL_BENCH_RUNS", "3")[0]
	wait := time.Duration(placeEnv(t, "SHOAL_PLACE_WAIT_S", "480")[0]) * time.Second
	for _, count := range counts {
		for run := 1; run <= runs; run++ {
			t.Run(fmt.Sprintf("pods=%d/run%d", count, run), func(t *testing.T) {
				took, bound := placeRC(t, nodes, count, wait)
				rec := map[string]any{
					"bench": fmt.Sprintf("place-%d", count), "run": run, "pods": count, "nodes": nodes, "seats": 3,
					"load": loadavg(),
				}
				if bound < count {
					// A figure too: how far it got in the time given.
					rec["unfinished_after_s"], rec["bound"] = took.Round(time.Millisecond).Seconds(), bound
				} else {
					rec["seconds"], rec["pods_per_s"] = took.Round(time.Millisecond).Seconds(), float64(count)/took.Seconds()
				}
				recordPlace(t, rec)
			})
		}
	}
}

// placeRC starts a fleet, creates the RC and returns the time from its
// POST until the leader's state holds count bound pods of it, or, when
// that takes longer than wait, the time waited and how many were bound.
func placeRC(t *testing.T, nodes, count int, wait time.Duration) (time.Duration, int) {
	cfg := DefaultSimConfig(nodes, t.TempDir())
	cfg.Seats, cfg.MaxPods, cfg.BlockBits = 3, 2000, 21
	cfg.FirstAddr = netip.MustParseAddr("127.79.0.1")
	cfg.APIPort, cfg.RaftPort, cfg.GossipPort = freePort(t), freePort(t), freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := StartSim(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop the sim: %v", err)
		}
		cancel()
	}()
	base := s.API(s.Nodes()[0])
	eventuallyWithin(t, 3*time.Minute, fmt.Sprintf("%d nodes Ready", nodes), func() bool {
		return len(readyNodes(base)) == nodes
	})
	client := s.Nodes()[len(s.Nodes())-1] // no seat
	rc := fmt.Sprintf(`apiVersion: v1
kind: ReplicationController
metadata: {name: place}
spec:
  replicas: %d
  selector: {app: place}
  template:
    metadata: {labels: {app: place}}
    spec:
      containers:
      - name: app
        image: shoal.local/busybox:1
        resources: {requests: {memory: 10Mi, cpu: 10m}}
`, count)
	start := time.Now()
	resp, err := http.Post(s.API(client)+"/api/v1/namespaces/default/replicationcontrollers", "application/yaml", strings.NewReader(rc))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create the RC: HTTP %d: %s", resp.StatusCode, b)
	}
	bound := 0
	for time.Since(start) < wait {
		if _, b, ok := leaderCount(s, "place"); ok {
			if bound = b; bound >= count {
				return time.Since(start), bound
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d of %d pods bound after %v", bound, count, wait)
	return time.Since(start), bound
}

// leaderCount counts, in the Raft leader's state, the pods labelled
// app=app and those of them bound to a node. The filter keeps none, so
// nothing is copied.
func leaderCount(s *Sim, app string) (total, bound int, ok bool) {
	for _, n := range s.Nodes() {
		a := n.a.Load()
		if a == nil || !a.isServer() || !a.raft().IsLeader() {
			continue
		}
		a.fsm().Pods(func(p *api.Pod) bool {
			if p.Labels["app"] == app {
				total++
				if p.Spec.NodeName != "" {
					bound++
				}
			}
			return false
		})
		return total, bound, true
	}
	return 0, 0, false
}

// placeEnv reads a comma-separated list of positive numbers from name.
func placeEnv(t *testing.T, name, def string) []int {
	t.Helper()
	v := envOr(name, def)
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("%s %q: %q is not a positive number", name, v, f)
		}
		out = append(out, n)
	}
	return out
}

// recordPlace logs one run and appends it to SHOAL_BENCH_OUT.
func recordPlace(t *testing.T, fields map[string]any) {
	t.Helper()
	line, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("result %s", line)
	out := os.Getenv("SHOAL_BENCH_OUT")
	if out == "" {
		return
	}
	f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		t.Fatal(err)
	}
}

// The placement rate bench fits 10,000 pods on 10 nodes through
// SimConfig.BlockBits: each node's pod block is that long.
func TestSimBlockBitsSizesEachNodesPodBlock(t *testing.T) {
	cfg := DefaultSimConfig(2, t.TempDir())
	cfg.Seats, cfg.BlockBits = 1, 21
	cfg.FirstAddr = netip.MustParseAddr("127.79.1.1")
	cfg.APIPort, cfg.RaftPort, cfg.GossipPort = freePort(t), freePort(t), freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := StartSim(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop the sim: %v", err)
		}
		cancel()
	})
	base := s.API(s.Nodes()[0])
	var cidrs []string
	eventuallyWithin(t, time.Minute, "2 nodes with pod blocks", func() bool {
		var l api.NodeList
		if getJSON(base+"/api/v1/nodes", &l) != nil || len(l.Items) != 2 {
			return false
		}
		cidrs = cidrs[:0]
		for _, n := range l.Items {
			if n.Spec.PodCIDR == "" {
				return false
			}
			cidrs = append(cidrs, n.Spec.PodCIDR)
		}
		return true
	})
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err != nil || p.Bits() != 21 {
			t.Errorf("pod block %q: want a /21 (%v)", c, err)
		}
	}
}
