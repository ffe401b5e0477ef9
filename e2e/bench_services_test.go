package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// What TestBenchServices adds to the netbench pods: the Service nb in
// front of nbsrv, and rdy (n2), a pod whose readiness the test turns on
// and off, behind the Service rdy.
const servicesBenchExtra = `apiVersion: v1
kind: Service
metadata: {name: nb}
spec:
  selector: {app: nb}
  ports: [{port: 80, targetPort: 5201}]
---
apiVersion: v1
kind: Pod
metadata: {name: rdy, labels: {app: rdy}}
spec:
  nodeName: n2
  containers:
  - name: c
    image: ` + image + `
    command: ["sh", "-c", "exec httpd -f -p 8080 -h /"]
    readinessProbe:
      exec: {command: ["test", "-f", "/tmp/ready"]}
      periodSeconds: 1
      failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata: {name: rdy}
spec:
  selector: {app: rdy}
  ports: [{port: 80, targetPort: 8080}]
`

// TestBenchServices measures a Service on a 3-node lab (issue 19's
// numbers): TCP throughput, round trips and new connections per second
// from a pod on n3 to a pod on n2, directly and through the Service's
// ClusterIP, alternating, so the ratio is the cost of the DNAT; DNS
// queries from the client pod to its node's server; and the time from a
// pod's readiness change to its endpoint being in, or out of, the service
// rules of every node.
func TestBenchServices(t *testing.T) {
	requireBench(t)
	f, srv, _ := startNetbenchLab(t, labName("bs"), servicesBenchExtra)
	rdy := f.waitPod("rdy", "Running", running)
	var svc api.Service
	if err := json.Unmarshal([]byte(f.run("get", "svc", "nb", "-o", "json")), &svc); err != nil {
		t.Fatal(err)
	}
	vip := svc.Spec.ClusterIP + ":80"
	direct := srv.Status.PodIP + ":5201"
	inside := func(args ...string) map[string]float64 {
		t.Helper()
		m, err := f.netbench(args...)
		if err != nil {
			t.Fatalf("netbench %s: %v", strings.Join(args, " "), err)
		}
		return m
	}
	waitFor(t, "the ClusterIP reaching nbsrv", func() bool {
		_, err := f.netbench("conn", vip, "1")
		return err == nil
	})
	n3 := f.labState().Nodes[2]
	waitFor(t, "n3's DNS answering for nb", func() bool {
		_, err := f.netbench("dns", n3.Addr, "nb.default.svc.cluster.local", "1", "1")
		return err == nil
	})

	secs := "5"
	if s := os.Getenv("SHOAL_BENCH_TPUT_SECONDS"); s != "" {
		secs = s
	}
	for run := 1; run <= benchRuns(t, 5); run++ {
		// Each pair in turns, the first of the pair alternating by run:
		// whichever runs second inherits the first's TIME_WAIT sockets
		// and a warmer cache.
		pair := func(args ...string) (onDirect, onVIP map[string]float64) {
			at := func(target string) map[string]float64 {
				return inside(append([]string{args[0], target}, args[1:]...)...)
			}
			if run%2 == 1 {
				onDirect = at(direct)
				return onDirect, at(vip)
			}
			onVIP = at(vip)
			return at(direct), onVIP
		}
		// Throughput and round trips on both paths from one process,
		// taking turns (every half second, every 100 round trips): two
		// runs taken one after the other differ by more than the paths
		// do on a busy 2-core machine.
		d, v := pathPair(inside, run, direct, vip, "gbit_per_s", "tputpair", secs)
		dRR, vRR := pathPair(inside, run, direct, vip, "p50_us", "rrpair", "20000", "1")
		dC, vC := pair("conn", "2000")
		record(t, "services", map[string]any{
			"run":           run,
			"direct_gbit_s": d["gbit_per_s"], "vip_gbit_s": v["gbit_per_s"], "tput_ratio": v["gbit_per_s"] / d["gbit_per_s"],
			"direct_rr_p50_us": dRR["p50_us"], "vip_rr_p50_us": vRR["p50_us"], "rr_p50_ratio": vRR["p50_us"] / dRR["p50_us"],
			"direct_conn_per_s": dC["per_s"], "vip_conn_per_s": vC["per_s"],
			"direct_conn_p99_us": dC["p99_us"], "vip_conn_p99_us": vC["p99_us"],
		})
		q := inside("dns", n3.Addr, "nb.default.svc.cluster.local", "20000", "4")
		record(t, "services-dns", map[string]any{
			"run": run, "queries_per_s": q["per_s"], "p50_us": q["p50_us"], "p99_us": q["p99_us"],
		})
		up := f.readyToRules(t, rdy, true)
		down := f.readyToRules(t, rdy, false)
		record(t, "services-ready", map[string]any{
			"run":                run,
			"up_probe_s":         seconds(up.ready),
			"up_rules_s":         seconds(up.rules),
			"up_after_ready_s":   seconds(up.rules - up.ready),
			"down_probe_s":       seconds(down.ready),
			"down_rules_s":       seconds(down.rules),
			"down_after_ready_s": seconds(down.rules - down.ready),
		})
	}
}

// pathPair runs a netbench pair mode (tputpair, rrpair) over the direct
// and the ClusterIP path (which is named first alternates by run) and
// returns each one's figure under key, as the single-path modes name it.
func pathPair(inside func(...string) map[string]float64, run int, direct, vip, key, mode string, args ...string) (onDirect, onVIP map[string]float64) {
	first, second := direct, vip
	if run%2 == 0 {
		first, second = vip, direct
	}
	m := inside(append([]string{mode, first, second}, args...)...)
	a := map[string]float64{key: m[key+"_1"]}
	b := map[string]float64{key: m[key+"_2"]}
	if run%2 == 0 {
		return b, a
	}
	return a, b
}

// readyTimes are measured from the readiness file's change: when the API
// first showed the pod's new Ready condition, and when the last node's
// service rules first showed the change.
type readyTimes struct{ ready, rules time.Duration }

// readyToRules turns pod's readiness on (creates the file its probe
// tests) or off, and polls at once the pod's Ready condition through the
// API and every node's service table for the pod's IP.
func (f *fleet) readyToRules(t *testing.T, pod *api.Pod, ready bool) readyTimes {
	t.Helper()
	script := "rm -f /tmp/ready"
	if ready {
		script = "touch /tmp/ready"
	}
	start := time.Now()
	f.run("exec", pod.Name, "--", "sh", "-c", script)
	var res readyTimes
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := start.Add(benchWait)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for time.Now().Before(deadline) {
			p, err := f.pod(pod.Name)
			if err == nil && podReady(p) == ready {
				mu.Lock()
				res.ready = time.Since(start)
				mu.Unlock()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	var nodeTimes []time.Duration
	for _, n := range f.labState().Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				out, err := exec.Command("ip", "netns", "exec", n.Netns, "nft", "list", "table", "ip", "shoal-svc").Output()
				if err == nil && strings.Contains(string(out), pod.Status.PodIP+" . 8080") == ready {
					mu.Lock()
					nodeTimes = append(nodeTimes, time.Since(start))
					mu.Unlock()
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if res.ready == 0 || len(nodeTimes) != len(f.labState().Nodes) {
		t.Fatalf("readiness %t: the API showed it after %s, %d nodes' rules within %s", ready, res.ready, len(nodeTimes), benchWait)
	}
	res.rules = slices.Max(nodeTimes)
	return res
}

func podReady(p *api.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}
