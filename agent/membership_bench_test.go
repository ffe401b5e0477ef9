package agent

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/shoal-dev/shoal/agent/liveness"
)

// verdictWatch is a memberlist EventDelegate that notes when this member
// first held each other member failed.
type verdictWatch struct {
	mu     sync.Mutex
	failed map[string]time.Time
}

func (w *verdictWatch) NotifyJoin(*memberlist.Node)   {}
func (w *verdictWatch) NotifyUpdate(*memberlist.Node) {}
func (w *verdictWatch) NotifyLeave(n *memberlist.Node) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.failed[n.Name]; !ok {
		w.failed[n.Name] = time.Now()
	}
}

func (w *verdictWatch) failedAt(name string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.failed[name]
	return t, ok
}

// BenchmarkGossipVerdict measures gossip's verdict on a killed agent with
// the agent's own timings (gossipTimings): n memberlists on loopback, one
// of them stopped without a word (as a power cut leaves it), and the time
// until the first and until the last survivor hold it failed. This is
// the detection part of a failover without a lab's load on top; the node
// grace (--node-grace) follows it. memberlist lengthens its suspicion
// with log10 of the fleet size above 10 members.
//
//	go test -run XXX -bench GossipVerdict -benchtime 10x ./agent/
func BenchmarkGossipVerdict(b *testing.B) {
	for _, n := range []int{5, 20, 50} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			var first, last []time.Duration
			for i := 0; i < b.N; i++ {
				f, l := gossipVerdictOnce(b, n, liveness.DefaultGossip())
				first, last = append(first, f), append(last, l)
			}
			slices.Sort(first)
			slices.Sort(last)
			b.ReportMetric(float64(first[len(first)/2].Milliseconds()), "first-ms")
			b.ReportMetric(float64(last[len(last)/2].Milliseconds()), "all-ms")
			b.ReportMetric(float64(last[len(last)-1].Milliseconds()), "all-max-ms")
		})
	}
}

// gossipVerdictOnce starts n members, stops one and returns when the
// first and the last survivor declared it failed, measured from the stop.
func gossipVerdictOnce(b *testing.B, n int, g liveness.Gossip) (first, last time.Duration) {
	b.Helper()
	watches := make([]*verdictWatch, n)
	lists, stop := startBenchMembers(b, n, func(i int, mc *memberlist.Config) {
		watches[i] = &verdictWatch{failed: map[string]time.Time{}}
		mc.Events = watches[i]
		gossipTimings(mc, g)
	})
	defer stop()
	// Settle: every member has probed around once, as in a fleet that has
	// been up a while.
	time.Sleep(time.Duration(n) * g.ProbeInterval)
	victim := n - 1
	name := lists[victim].LocalNode().Name
	start := time.Now()
	if err := lists[victim].Shutdown(); err != nil {
		b.Fatal(err)
	}
	lists[victim] = nil
	for {
		var got []time.Time
		for i, w := range watches {
			if i == victim {
				continue
			}
			if t, ok := w.failedAt(name); ok {
				got = append(got, t)
			}
		}
		if len(got) == n-1 {
			slices.SortFunc(got, func(x, y time.Time) int { return x.Compare(y) })
			return got[0].Sub(start), got[len(got)-1].Sub(start)
		}
		if time.Since(start) > 30*time.Second {
			b.Fatalf("after 30 s only %d of %d survivors hold %s failed", len(got), n-1, name)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startBenchMembers starts n memberlist members on loopback, configured
// by configure, joins them and waits until each sees all n. The caller
// stops them (stop) when its run ends: runs follow each other in one
// process, and members left running would gossip through the next.
func startBenchMembers(b *testing.B, n int, configure func(i int, mc *memberlist.Config)) (lists []*memberlist.Memberlist, stop func()) {
	b.Helper()
	lists = make([]*memberlist.Memberlist, n)
	stop = func() {
		for _, l := range lists {
			if l != nil {
				_ = l.Shutdown()
			}
		}
	}
	ok := false
	defer func() {
		if !ok {
			stop()
		}
	}()
	for i := range lists {
		mc := memberlist.DefaultLANConfig()
		mc.Name = fmt.Sprintf("m%d", i)
		mc.BindAddr, mc.BindPort = "127.0.0.1", 0
		mc.LogOutput = io.Discard
		configure(i, mc)
		l, err := memberlist.Create(mc)
		if err != nil {
			b.Fatal(err)
		}
		lists[i] = l
		if i > 0 {
			if _, err := l.Join([]string{lists[0].LocalNode().Address()}); err != nil {
				b.Fatal(err)
			}
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, l := range lists {
		for l.NumMembers() < n {
			if time.Now().After(deadline) {
				b.Fatalf("%s sees %d members, want %d", l.LocalNode().Name, l.NumMembers(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	ok = true
	return lists, stop
}
