package consensus

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// BenchmarkRaftIdle measures what an idle fleet's Raft costs and what a
// write's commit takes to reach a follower: 3 real servers on loopback
// (TCP, raft-wal) with the fleet's timings, CommitTimeout as given (the
// old 50 ms, and the default with the commit nudge, commit_nudge.go).
// Each op is one second of idle; cpu-ms/s is the process's user+system
// CPU (all three servers) per second of it. follower-commit-ms is, for
// one write after each second, the time from the leader's Apply returning
// to every follower knowing the entry committed.
//
//	go test -run '^$' -bench RaftIdle -benchtime 10x ./consensus/
func BenchmarkRaftIdle(b *testing.B) {
	for _, ct := range []time.Duration{50 * time.Millisecond, 0} {
		name := "commit-timeout-default"
		if ct != 0 {
			name = fmt.Sprintf("commit-timeout-%s", ct)
		}
		b.Run(name, func(b *testing.B) {
			servers := make([]*server, 3)
			var members []Server
			for i := range servers {
				s := &server{id: "server-" + string(rune('a'+i)), dir: b.TempDir(), fsm: NewFSM()}
				r, err := OpenOnDisk(Config{ID: s.id, DataDir: s.dir, BindAddr: "127.0.0.1:0", CommitTimeout: ct}, s.fsm)
				if err != nil {
					b.Fatal(err)
				}
				s.raft, s.addr = r, r.Addr()
				servers[i] = s
				b.Cleanup(func() { s.stop(b) })
				members = append(members, Server{ID: s.id, Address: s.addr, Voter: true})
			}
			for _, s := range servers {
				if err := s.raft.BootstrapIfNew(members); err != nil {
					b.Fatal(err)
				}
			}
			leader := waitLeader(b, servers)
			applyOK(b, leader.raft, create("warm", "1Mi"))
			time.Sleep(2 * time.Second) // past the election's and the first write's traffic
			var cpu, lag time.Duration
			b.ResetTimer()
			for i := range b.N {
				c0 := processCPU(b)
				time.Sleep(time.Second)
				cpu += processCPU(b) - c0
				res := applyOK(b, leader.raft, create(fmt.Sprintf("p%d", i), "1Mi"))
				t0 := time.Now()
				for _, s := range servers {
					for s.raft.CommitIndex() < res.Index {
						if time.Since(t0) > 10*time.Second {
							b.Fatalf("%s never learned that %d committed", s.id, res.Index)
						}
						time.Sleep(time.Millisecond)
					}
				}
				lag += time.Since(t0)
			}
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/s")
			b.ReportMetric(float64(lag.Microseconds())/1000/float64(b.N), "follower-commit-ms")
		})
	}
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
