package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBenchFailoverFleet20: the failover of TestBenchFailover on a larger
// fleet, to show how it grows: a 20-node lab (3 Raft seats, 17 clients)
// runs an RC of 100 pods; each round kills, at the same moment, the two
// nodes that run most replicas (never n1, the CLI's, nor a Raft seat, so
// the fleet keeps its quorum) and times until all 100 run on live nodes.
// Besides the totals it records when the agents' logs show each step
// (gossip's verdict, the leader's NotReady, the replacements created and
// bound), so the report can say where the seconds go.
func TestBenchFailoverFleet20(t *testing.T) {
	requireBench(t)
	const nodes, app, replicas, kills = 20, "failover", 100, 2
	args := []string{"--nodes", fmt.Sprint(nodes)}
	// SHOAL_BENCH_AGENT_ARGS: extra agent flags, e.g. --log-level=debug to
	// see gossip's suspicions in the logs (then also a suspect_s step).
	for _, a := range strings.Fields(os.Getenv("SHOAL_BENCH_AGENT_ARGS")) {
		args = append(args, "--agent-arg="+a)
	}
	f := startFleet(t, labName("bg"), args...)
	f.importBusybox()
	f.apply(benchRC(app, replicas, "16Mi"))
	f.waitAppRunning(app, replicas, nil, time.Now())
	for run := 1; run <= benchRuns(t, 3); run++ {
		victims, moved := f.failoverVictims(app, kills)
		dead := map[string]bool{}
		for _, v := range victims {
			dead[v] = true
		}
		passes0, busy0 := f.reconcilePasses(dead)
		start := time.Now()
		var wg sync.WaitGroup
		for _, v := range victims {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if out, err := f.try("lab", "kill", f.name, v, "--state-root", f.stateRoot); err != nil {
					t.Errorf("lab kill %s: %v\n%s", v, err, out)
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		detected := f.waitNodeNotReady(victims[0], dead, start)
		f.waitAppRunning(app, replicas, dead, start)
		took := time.Since(start)
		fields := map[string]any{
			"run": run, "nodes": nodes, "killed": victims, "pods": replicas, "replaced": moved,
			"seconds": seconds(took), "not_ready_s": seconds(detected),
		}
		for k, v := range f.failoverSteps(dead, start) {
			fields[k] = v
		}
		// What the live nodes' reconcilers did meanwhile: passes over
		// their pods, and the time those passes took, summed over nodes.
		passes, busy := f.reconcilePasses(dead)
		fields["reconcile_passes"] = passes - passes0
		fields["reconcile_busy_s"] = busy - busy0
		record(t, "failover_20nodes", fields)
		f.keepLogs(fmt.Sprintf("run%d", run))
		for _, v := range victims {
			f.run("lab", "heal", f.name, v, "--state-root", f.stateRoot)
		}
		for _, v := range victims {
			f.waitNodeReady(v)
		}
		f.waitAppRunning(app, replicas, nil, time.Now())
	}
}

// failoverVictims picks the n nodes, other than n1 and the Raft seats,
// that run the most replicas of app, and how many replicas they run.
func (f *fleet) failoverVictims(app string, n int) ([]string, int) {
	f.t.Helper()
	pods, err := f.podsOf(app, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	counts := map[string]int{}
	for _, p := range pods {
		counts[p.Spec.NodeName]++
	}
	skip := map[string]bool{"n1": true}
	for _, s := range f.waitVoters(nil, 3) {
		skip[s] = true
	}
	cands := f.liveNodes(skip)
	sort.SliceStable(cands, func(i, j int) bool { return counts[cands[i]] > counts[cands[j]] })
	if len(cands) < n {
		f.t.Fatalf("want %d nodes to kill besides n1 and the seats %v, have %v", n, keys(skip), cands)
	}
	moved := 0
	for _, c := range cands[:n] {
		moved += counts[c]
	}
	return cands[:n], moved
}

// deadIn tells whether msg names a node in dead as a word.
func deadIn(msg string, dead map[string]bool) bool {
	for _, w := range strings.Fields(msg) {
		if dead[w] {
			return true
		}
	}
	return false
}

// keepLogs copies every agent's log to $SHOAL_BENCH_KEEP_LOGS/sub, when
// set, to read after the lab is gone.
func (f *fleet) keepLogs(sub string) {
	f.t.Helper()
	dir := os.Getenv("SHOAL_BENCH_KEEP_LOGS")
	if dir == "" {
		return
	}
	dir = filepath.Join(dir, sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.t.Fatal(err)
	}
	for _, n := range f.labState().Nodes {
		b, err := os.ReadFile(n.Log)
		if err != nil {
			f.t.Logf("keep %s log: %v", n.Name, err)
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, n.Name+".log"), b, 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
}

// reconcilePasses sums, over the live nodes, the node reconciler's passes
// and the seconds they took (shoal_reconcile_duration_seconds).
func (f *fleet) reconcilePasses(down map[string]bool) (passes, busy float64) {
	f.t.Helper()
	for _, node := range f.liveNodes(down) {
		n, err := f.labState().Node(node)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, l := range strings.Split(scrapeMetrics(f.t, n.APIURL()), "\n") {
			k, v, ok := strings.Cut(l, " ")
			if !ok {
				continue
			}
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			switch k {
			case "shoal_reconcile_duration_seconds_count":
				passes += x
			case "shoal_reconcile_duration_seconds_sum":
				busy += x
			}
		}
	}
	return passes, busy
}

// The parts of an agent's text log record that failoverSteps reads: when,
// what, and node= (the agent's own name comes first, the record's subject
// last).
var (
	logTime  = regexp.MustCompile(`^time=(\S+) `)
	logMsg   = regexp.MustCompile(` msg="([^"]*)"| msg=(\S+)`)
	logNode  = regexp.MustCompile(` node=(\S+)`)
	logPod   = regexp.MustCompile(` pod=(\S+)`)
	logUID   = regexp.MustCompile(` uid=(\S+)`)
	logPhase = regexp.MustCompile(` phase=(\S+)`)
)

// podSteps is when the logs show each step of one replacement pod, from
// the kill.
type podSteps struct {
	bound, sandbox, created, started, reported time.Duration
	has                                        int // bit per step seen: 1 bound, 2 sandbox, 4 started, 8 reported, 16 created
}

// failoverSteps reads every live agent's log for the steps of a failover
// that began at start (seconds after it): gossip's first suspicion (debug
// logs only) and first verdict on a killed node, the leader recording the
// first and the last killed node NotReady, the
// last replica deleted, created and bound, the first and last new pod
// sandbox and the last container started. A step no log shows is left out.
func (f *fleet) failoverSteps(dead map[string]bool, start time.Time) map[string]float64 {
	f.t.Helper()
	steps := map[string]float64{}
	first := func(k string, d time.Duration) {
		if v, ok := steps[k]; !ok || seconds(d) < v {
			steps[k] = seconds(d)
		}
	}
	last := func(k string, d time.Duration) {
		if v, ok := steps[k]; !ok || seconds(d) > v {
			steps[k] = seconds(d)
		}
	}
	lost := map[string]time.Duration{}
	byKey := map[string]*podSteps{} // the leader's and the reports' lines name the pod by key
	byUID := map[string]*podSteps{} // the runtime's by UID
	uidKey := map[string]string{}
	step := func(m map[string]*podSteps, id string) *podSteps {
		if m[id] == nil {
			m[id] = &podSteps{}
		}
		return m[id]
	}
	attr := func(re *regexp.Regexp, line string) string {
		if m := re.FindStringSubmatch(line); m != nil {
			return m[1]
		}
		return ""
	}
	for _, n := range f.labState().Nodes {
		if dead[n.Name] {
			continue
		}
		fh, err := os.Open(n.Log)
		if err != nil {
			f.t.Logf("read %s log: %v", n.Name, err)
			continue
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			tm := logTime.FindStringSubmatch(line)
			if tm == nil {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, tm[1])
			if err != nil || at.Before(start) {
				continue
			}
			d := at.Sub(start)
			msg := ""
			if m := logMsg.FindStringSubmatch(line); m != nil {
				msg = m[1] + m[2]
			}
			subject := ""
			if all := logNode.FindAllStringSubmatch(line, -1); len(all) > 0 {
				subject = all[len(all)-1][1]
			}
			switch {
			case strings.Contains(msg, "[INFO] memberlist: Suspect ") && deadIn(msg, dead):
				first("suspect_s", d)
			case msg == "member left or failed" && dead[subject]:
				first("gossip_dead_s", d)
			case msg == "node lost: gossip has held it failed for longer than the grace period" && dead[subject]:
				if _, ok := lost[subject]; !ok {
					lost[subject] = d
				}
			case msg == "deleted replica of lost node; its controller replaces it":
				last("deleted_s", d)
			case msg == "created replica":
				first("first_created_s", d)
				last("created_s", d)
			case msg == "pod bound":
				last("bound_s", d)
				ps := step(byKey, attr(logPod, line))
				ps.bound, ps.has = d, ps.has|1
			case msg == "sandbox created":
				first("first_sandbox_s", d)
				last("sandbox_s", d)
				ps := step(byUID, attr(logPod, line))
				ps.sandbox, ps.has = d, ps.has|2
			case msg == "container created":
				ps := step(byUID, attr(logPod, line))
				ps.created, ps.has = d, ps.has|16
			case msg == "container started":
				last("started_s", d)
				ps := step(byUID, attr(logPod, line))
				ps.started, ps.has = d, ps.has|4
			case msg == "pod phase reported" && attr(logPhase, line) == "Running":
				last("reported_s", d)
				key := attr(logPod, line)
				uidKey[attr(logUID, line)] = key
				ps := step(byKey, key)
				ps.reported, ps.has = d, ps.has|8
			}
		}
		fh.Close()
	}
	for _, d := range lost {
		first("first_lost_s", d)
		last("lost_s", d)
	}
	// Per replacement pod: bind → its sandbox (the node's pass reached
	// it), sandbox → container started, started → Running reported.
	// The container's part splits at its creation: image, snapshot and
	// spec before it, the shim and runc after.
	var wait, run, create, launch, report []time.Duration
	for uid, key := range uidKey {
		k, u := byKey[key], byUID[uid]
		if k == nil || u == nil || k.has&9 != 9 || u.has&22 != 22 {
			continue
		}
		wait = append(wait, u.sandbox-k.bound)
		run = append(run, u.started-u.sandbox)
		create = append(create, u.created-u.sandbox)
		launch = append(launch, u.started-u.created)
		report = append(report, k.reported-u.started)
	}
	for name, ds := range map[string][]time.Duration{"pod_bind_to_sandbox": wait, "pod_sandbox_to_started": run,
		"pod_sandbox_to_created": create, "pod_created_to_started": launch, "pod_started_to_reported": report} {
		if len(ds) == 0 {
			continue
		}
		slices.Sort(ds)
		steps[name+"_median_s"] = seconds(ds[len(ds)/2])
		steps[name+"_max_s"] = seconds(ds[len(ds)-1])
	}
	return steps
}
