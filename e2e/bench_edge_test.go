package e2e

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// TestBenchEdgePartition (issue 25) cuts a site off for 10 s and 60 s
// (and 10 min with SHOAL_BENCH_EDGE_LONG=1) and measures what a cut-off
// edge site costs: how long a pod tolerating node.kubernetes.io/unreachable
// stops answering HTTP inside the site's network namespace (goal 0, probed
// every 100 ms through the partition), whether its container restarted
// (its start time in n4's containerd), and how long the default RC's
// replicas on the site take to run elsewhere (goal: the failover time).
func TestBenchEdgePartition(t *testing.T) {
	requireBench(t)
	cuts := []time.Duration{10 * time.Second, 60 * time.Second}
	if os.Getenv("SHOAL_BENCH_EDGE_LONG") == "1" {
		cuts = append(cuts, 10*time.Minute)
	}
	f := startFleet(t, labName("be"), "--nodes", "4", "--node-memory", "1Gi")
	f.importBusybox()
	k := kubectlOn(t, f)
	for name, m := range map[string]string{"keep.yaml": edgeKeep, "daemon.yaml": edgeDaemon, "plain.yaml": edgePlain} {
		k.ok("apply", "-f", k.file(name, m))
	}
	want := edgeWant{"keep": 4, "daemon": 4, "plain": 4}
	const victim = "n4" // the client: an edge site holds no Raft seat
	perNode := f.waitEdgeCounts(want, "all three workloads running")
	for _, cut := range cuts {
		for attempt := 0; perNode[victim]["keep"] == 0 || perNode[victim]["plain"] == 0; attempt++ {
			if attempt == 5 {
				t.Fatalf("%s runs no kept pod or no replica: %v", victim, perNode)
			}
			// Their controllers make them again, spread over the nodes.
			k.ok("delete", "pods", "-l", "app=keep", "--wait=false")
			k.ok("delete", "pods", "-l", "app=plain", "--wait=false")
			perNode = f.waitEdgeCounts(want, "the pods made again")
		}
		before, err := f.nodeContainers(victim)
		if err != nil {
			t.Fatal(err)
		}
		ips := f.keepIPs(victim, nil)
		start := time.Now()
		f.run("lab", "partition", f.name, victim, "--state-root", f.stateRoot)
		var (
			down     time.Duration
			failover time.Duration
			healed   bool
			last     = time.Now()
		)
		for {
			ok := f.servesInNode(victim, ips) == nil
			now := time.Now()
			if !ok {
				down += now.Sub(last)
			}
			last = now
			if failover == 0 {
				if pods, err := f.podsOf("plain", map[string]bool{victim: true}); err == nil {
					n := 0
					for i := range pods {
						if running(&pods[i]) && pods[i].Spec.NodeName != victim {
							n++
						}
					}
					if n == want["plain"] {
						failover = time.Since(start)
					}
				}
			}
			if !healed && time.Since(start) >= cut {
				f.run("lab", "heal", f.name, victim, "--state-root", f.stateRoot)
				healed = true
				f.waitNodeReady(victim)
				perNode = f.waitEdgeCounts(want, "after the heal")
				break
			}
			if time.Since(start) > cut+benchWait {
				t.Fatalf("cut %v: no heal", cut)
			}
			time.Sleep(100 * time.Millisecond)
		}
		after, err := f.nodeContainers(victim)
		if err != nil {
			t.Fatal(err)
		}
		restarted := kept(after) != kept(before)
		if failover == 0 {
			t.Errorf("cut %v: the RC's replicas never all ran off %s", cut, victim)
		}
		record(t, fmt.Sprintf("edge-partition-%ds", int(cut.Seconds())), map[string]any{
			"cut_s": seconds(cut), "kept_down_s": seconds(down), "kept_restarted": restarted, "rc_failover_s": seconds(failover),
		})
	}
}
