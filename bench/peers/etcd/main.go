// Command etcd-bench measures a 3-member etcd on loopback with the write
// pattern of shoal's Raft benchmark (consensus/raft_bench_test.go), so the
// two stand side by side in BENCHMARKS.md: each op writes a pod-sized
// value (the size of shoal's CreatePod log entry) under a new key and then
// deletes it, through the leader, returning when etcd has committed and
// applied it; "serial" is one writer, "writers=32" exactly 32 at once.
// It starts its own etcd processes (Debian's etcd-server) with their data
// directories in a temporary directory, as shoal's benchmark keeps its
// Raft logs, and kills them when done.
//
// It lives in a module of its own so that etcd's client is not one of
// shoal's dependencies.
//
//	go run . -runs 5 -benchtime 3s -o results.jsonl
//
// Each run and phase appends one JSON line (bench etcd_serial or
// etcd_writers32) to -o, the shape bench/run.sh keeps in lab.jsonl.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

func main() {
	etcd := flag.String("etcd", "etcd", "the etcd server binary")
	runs := flag.Int("runs", 5, "repeats of each phase")
	first := flag.Int("first-run", 1, "number of the first run in the JSON lines (when runs are taken in turns with another benchmark)")
	benchtime := flag.Duration("benchtime", 3*time.Second, "length of one phase (as shoal's -benchtime)")
	writers := flag.Int("writers", 32, "concurrent writers of the throughput phase")
	out := flag.String("o", "", "file to append the JSON lines to (default stdout)")
	flag.Parse()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := run(ctx, *etcd, *first, *runs, *benchtime, *writers, *out); err != nil {
		slog.Error("etcd bench", "err", err)
		os.Exit(1)
	}
}

// pod is shoal's CreatePod log entry for a one-container pod (the
// benchmark's create("bench-N", "64Mi")), so the values are the same size.
const pod = `{"type":"CreatePod","body":{"pod":{"metadata":{"name":"%s","namespace":"default"},"spec":{"containers":[{"name":"c0","image":"busybox:1.36","command":["sleep","3600"],"resources":{"requests":{"memory":"64Mi"}}}]},"status":{}},"uid":"uid-%s","time":"2025-01-02T03:04:05Z"}}`

func run(ctx context.Context, etcd string, first, runs int, benchtime time.Duration, writers int, outPath string) error {
	version, err := serverVersion(etcd)
	if err != nil {
		return err
	}
	client := clientVersion()
	out := os.Stdout
	if outPath != "" {
		f, err := os.OpenFile(outPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	dir, err := os.MkdirTemp("", "etcd-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	members, stop, err := startCluster(ctx, etcd, dir, 3)
	if err != nil {
		return err
	}
	defer stop()
	leader, err := leaderOf(ctx, members)
	if err != nil {
		return err
	}
	// Writes go to the leader, as shoal's benchmark applies on its leader:
	// a follower would add a forwarding hop.
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{leader.clientURL}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return fmt.Errorf("client for %s: %w", leader.clientURL, err)
	}
	defer cli.Close()
	slog.Info("etcd cluster up", "server", version, "client", client, "leader", leader.name, "dir", dir)

	var seq atomic.Int64
	var opErr atomic.Value
	// op writes one pod and deletes it, and returns how long each took.
	op := func() (put, del time.Duration) {
		i := seq.Add(1)
		name := fmt.Sprintf("bench-%d", i)
		key := "/registry/pods/default/" + name
		start := time.Now()
		if _, err := cli.Put(ctx, key, fmt.Sprintf(pod, name, name)); err != nil {
			opErr.CompareAndSwap(nil, fmt.Errorf("put %s: %w", key, err))
		}
		put = time.Since(start)
		start = time.Now()
		if _, err := cli.Delete(ctx, key); err != nil {
			opErr.CompareAndSwap(nil, fmt.Errorf("delete %s: %w", key, err))
		}
		return put, time.Since(start)
	}
	// A few writes first so the connections are up.
	for range 20 {
		op()
	}
	valueBytes := len(fmt.Sprintf(pod, "bench-1", "bench-1"))
	for r := first; r < first+runs; r++ {
		for _, phase := range []struct {
			bench   string
			writers int
		}{{"etcd_serial", 1}, {fmt.Sprintf("etcd_writers%d", writers), writers}} {
			lat, elapsed, peak := measure(phase.writers, benchtime, op)
			if err, _ := opErr.Load().(error); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rec := map[string]any{
				"bench": phase.bench, "run": r, "writers": peak, "writes": len(lat),
				"writes_per_s": float64(len(lat)) / elapsed.Seconds(),
				"p50_ms":       percentile(lat, 0.50), "p99_ms": percentile(lat, 0.99),
				"value_bytes": valueBytes, "members": len(members),
				"etcd_version": version, "client_version": client,
			}
			line, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			fmt.Fprintln(out, string(line))
			slog.Info("result", "bench", phase.bench, "run", r, "writes/s", int(rec["writes_per_s"].(float64)),
				"p50_ms", rec["p50_ms"], "p99_ms", rec["p99_ms"], "writers", peak)
		}
	}
	return nil
}

// measure runs op on exactly n goroutines for d and returns each write's
// latency, the time taken and the most writers ever inside op at once.
func measure(n int, d time.Duration, op func() (time.Duration, time.Duration)) ([]time.Duration, time.Duration, int) {
	var (
		mu                   sync.Mutex
		lat                  []time.Duration
		inFlight, peak, stop atomic.Int64
		wg                   sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for range n {
		wg.Go(func() {
			for stop.Load() == 0 {
				now := inFlight.Add(1)
				for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
				}
				a, b := op()
				inFlight.Add(-1)
				mu.Lock()
				lat = append(lat, a, b)
				mu.Unlock()
				if time.Now().After(deadline) {
					stop.Store(1)
				}
			}
		})
	}
	wg.Wait()
	return lat, time.Since(start), int(peak.Load())
}

// percentile is the p-th latency in ms, as shoal's benchmark reports it.
func percentile(lat []time.Duration, p float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return float64(s[int(p*float64(len(s)-1))].Microseconds()) / 1000
}

// serverVersion is the etcd server's version, from `etcd --version`.
func serverVersion(etcd string) (string, error) {
	b, err := exec.Command(etcd, "--version").CombinedOutput()
	if err != nil {
		var notFound *exec.Error
		if errors.As(err, &notFound) {
			return "", fmt.Errorf("%s not found (Debian: apt-get install etcd-server): %w", etcd, err)
		}
		return "", fmt.Errorf("%s --version: %w: %s", etcd, err, b)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "etcd Version: "); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s --version printed no version: %s", etcd, b)
}

// clientVersion is the version of etcd's Go client this was built with.
func clientVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "go.etcd.io/etcd/client/v3" {
				return d.Version
			}
		}
	}
	return "unknown"
}
