package agent

import (
	"fmt"
	"log/slog"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/shoal-dev/shoal/agent/liveness"
)

// BenchmarkGossipIdle measures what an idle fleet's gossip costs: five
// memberlists on loopback with the agent's timings (gossipTimings) and
// transport (gossipTransportFor), no compression, as newMembership
// builds them, and the process's CPU over a window once they have
// settled, in CPU ms per second per member. The sub-benchmarks change one
// timing each, to weigh it against what it does to the verdict
// (BenchmarkGossipVerdict); docs/performance.md, "Session 22".
//
//	go test -run XXX -bench GossipIdle -benchtime 1x ./agent/
func BenchmarkGossipIdle(b *testing.B) {
	const n = 5
	window := 10 * time.Second
	def := liveness.DefaultGossip()
	slowGossip := def
	slowGossip.GossipInterval = 200 * time.Millisecond
	slowProbe := def
	slowProbe.ProbeInterval = 500 * time.Millisecond
	for _, v := range []struct {
		name string
		g    liveness.Gossip
	}{{"default", def}, {"gossip=200ms", slowGossip}, {"probe=500ms", slowProbe}} {
		b.Run(v.name, func(b *testing.B) {
			var perMember []float64
			for i := 0; i < b.N; i++ {
				perMember = append(perMember, gossipIdleOnce(b, n, v.g, window))
			}
			b.ReportMetric(perMember[len(perMember)/2], "cpu-ms/s/member")
		})
	}
}

// gossipIdleOnce starts n members, lets them settle and returns the
// process's CPU over window, in ms per second per member.
func gossipIdleOnce(b *testing.B, n int, g liveness.Gossip, window time.Duration) float64 {
	b.Helper()
	log := slog.New(slog.DiscardHandler)
	_, stop := startBenchMembers(b, n, func(_ int, mc *memberlist.Config) {
		mc.EnableCompression = false
		gossipTimings(mc, g)
		if err := gossipTransportFor(mc, log); err != nil {
			b.Fatal(err)
		}
	})
	defer stop()
	time.Sleep(3 * time.Second) // past the joins' gossip
	cpu0, wall0 := processCPU(b), time.Now()
	time.Sleep(window)
	cpu, wall := processCPU(b)-cpu0, time.Since(wall0)
	return float64(cpu.Milliseconds()) / wall.Seconds() / float64(n)
}

// processCPU is this process's user and system time.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkGossipVerdictGossipInterval is BenchmarkGossipVerdict's
// measurement on 5 and 20 members with gossip's interval at the old 100 ms
// and at the 200 ms the agent now runs: how much later the survivors
// hold a killed member failed when suspicions and verdicts spread half
// as often (they also ride on every probe and ack, memberlist's
// piggybacking).
//
//	go test -run XXX -bench GossipVerdictGossipInterval -benchtime 10x ./agent/
func BenchmarkGossipVerdictGossipInterval(b *testing.B) {
	for _, n := range []int{5, 20} {
		for _, gi := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond} {
			g := liveness.DefaultGossip()
			g.GossipInterval = gi
			b.Run(fmt.Sprintf("nodes=%d/gossip=%v", n, gi), func(b *testing.B) {
				var first, last []time.Duration
				for i := 0; i < b.N; i++ {
					f, l := gossipVerdictOnce(b, n, g)
					first, last = append(first, f), append(last, l)
				}
				slices.Sort(first)
				slices.Sort(last)
				b.ReportMetric(float64(first[len(first)/2].Milliseconds()), "first-ms")
				b.ReportMetric(float64(last[len(last)/2].Milliseconds()), "all-ms")
			})
		}
	}
}
