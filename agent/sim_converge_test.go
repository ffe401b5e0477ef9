package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	rtmetrics "runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSimGossipConverges times a sim fleet's gossip alone: from the start
// until every agent's memberlist holds every member (SHOAL_SIM_CONVERGE
// nodes; skipped without). Every 5 s it logs the fewest members an agent
// holds, how many agents hold all, memberlist's warnings by kind (a full
// handler queue, suspicions, failures) and the kernel's UDP receive
// errors, so a setting's effect on the start shows in one run.
// simGossipFromEnv's variables change memberlist's settings, SHOAL_SCALE_START_EVERY the clients'
// spacing. Figures, not assertions: it fails only when the fleet does not
// converge within SHOAL_SIM_WAIT (default 3m).
func TestSimGossipConverges(t *testing.T) {
	n := envInt("SHOAL_SIM_CONVERGE", 0)
	if n == 0 {
		t.Skip("set SHOAL_SIM_CONVERGE=nodes")
	}
	wait, err := time.ParseDuration(envOr("SHOAL_SIM_WAIT", "3m"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultSimConfig(n, t.TempDir())
	cfg.GossipProfile = os.Getenv("SHOAL_SIM_PROFILE")
	if d, err := time.ParseDuration(os.Getenv("SHOAL_SCALE_START_EVERY")); err == nil {
		cfg.StartEvery = d
	}
	var tuned string
	cfg.TuneGossip, tuned = simGossipFromEnv()
	limitSimMemory(t)
	prof := startSimProfiles(t, os.Getenv("SHOAL_SIM_PPROF"))
	defer prof.stop()
	counts := &warnCounter{n: map[string]int{}}
	cfg.Log = slog.New(counts)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	udp0 := udpRcvbufErrors()
	start := time.Now()
	s, err := StartSim(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	t.Logf("%d nodes, clients %v apart, gossip %s", n, cfg.StartEvery, tuned)
	next := 5 * time.Second
	var sched []uint64 // the scheduler latency histogram's counts at the last log
	for {
		least, all := n, 0
		for _, m := range s.Nodes() {
			k := m.GossipMembers()
			least = min(least, k)
			if k == n {
				all++
			}
		}
		el := time.Since(start)
		if all == n {
			t.Logf("converged after %.1f s; %s; UDP receive errors %d; CPU %.2f cores", el.Seconds(), counts, udpRcvbufErrors()-udp0, cpuSeconds()/el.Seconds())
			for k, m := range counts.sample {
				t.Logf("first %q: %s", k, m)
			}
			return
		}
		if el >= next {
			next = el + 5*time.Second
			p99, worst := schedLatency(&sched)
			rss := rssMiB()
			t.Logf("%3.0f s: fewest members %d, %d of %d agents hold all; %s; UDP receive errors %d; goroutines waited to run p99 %v, max %v; %d goroutines, RSS %.0f MiB, CPU %.2f cores",
				el.Seconds(), least, all, n, counts, udpRcvbufErrors()-udp0, p99, worst, runtime.NumGoroutine(), rss, cpuSeconds()/el.Seconds())
			prof.window(el)
			if rss > simRSSLimitMiB {
				t.Fatalf("RSS %.0f MiB passed %d MiB: stopped before the machine runs short", rss, simRSSLimitMiB)
			}
		}
		if el > wait {
			t.Fatalf("not converged after %v", wait)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// warnCounter counts memberlist's warnings by kind.
type warnCounter struct {
	mu     sync.Mutex
	n      map[string]int
	sample map[string]string // the first of each kind
}

func (c *warnCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (c *warnCounter) WithAttrs([]slog.Attr) slog.Handler           { return c }
func (c *warnCounter) WithGroup(string) slog.Handler                { return c }

func (c *warnCounter) Handle(_ context.Context, r slog.Record) error {
	kind := "other"
	for _, k := range []string{"handler queue full", "Suspect", "as failed", "Refuting", "probes failed", "Failed to"} {
		if strings.Contains(r.Message, k) {
			kind = k
			break
		}
	}
	c.mu.Lock()
	c.n[kind]++
	if c.sample == nil {
		c.sample = map[string]string{}
	}
	if _, ok := c.sample[kind]; !ok {
		c.sample[kind] = r.Message
		fmt.Fprintf(os.Stderr, "first %q: %s\n", kind, r.Message)
	}
	c.mu.Unlock()
	return nil
}

func (c *warnCounter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprint(c.n)
}

// schedLatency is the p99 and the largest of how long goroutines waited
// to run since the last call (runtime/metrics' histogram, whose counts
// *last holds).
func schedLatency(last *[]uint64) (p99, worst time.Duration) {
	s := []rtmetrics.Sample{{Name: "/sched/latencies:seconds"}}
	rtmetrics.Read(s)
	h := s[0].Value.Float64Histogram()
	d := make([]uint64, len(h.Counts))
	var total uint64
	for i, c := range h.Counts {
		d[i] = c
		if i < len(*last) {
			d[i] -= (*last)[i]
		}
		total += d[i]
	}
	*last = slices.Clone(h.Counts)
	var seen uint64
	for i, c := range d {
		if c == 0 {
			continue
		}
		seen += c
		b := time.Duration(h.Buckets[i+1] * float64(time.Second))
		if h.Buckets[i+1] > 1e9 {
			b = time.Duration(h.Buckets[i] * float64(time.Second))
		}
		if p99 == 0 && seen*100 >= total*99 {
			p99 = b
		}
		worst = b
	}
	return p99, worst
}

// udpRcvbufErrors is the kernel's count of UDP datagrams dropped for a
// full socket receive buffer.
func udpRcvbufErrors() int {
	b, _ := os.ReadFile("/proc/net/snmp")
	var head []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if head == nil {
			head = f
			continue
		}
		for i, h := range head {
			if h == "RcvbufErrors" && i < len(f) {
				v, _ := strconv.Atoi(f[i])
				return v
			}
		}
	}
	return 0
}
