package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// TestSimScale is the scale report's driver (make bench-scale): for each
// fleet size in SHOAL_SCALE_NODES (e.g. "100,300") it starts a sim fleet
// and measures, in this order, gossip convergence and every node Ready;
// SHOAL_SCALE_PODS_PER_NODE pods per node (default 10) created through the
// API, half by ReplicationControllers of 100 replicas and half as bare pods,
// until all are bound and reported Running, with the latency of every
// create; the crash of 1% and then 10% of the clients at once: detection,
// replacements Running; false positives among the live nodes throughout and
// during an idle soak of SHOAL_SCALE_SOAK (default 60s); heap, CPU and the
// seats' Raft log and snapshots. Each size appends one JSON line to
// SHOAL_BENCH_OUT (bench/results/scale.jsonl), which bench/report turns
// into BENCHMARKS.md's section. Figures, not assertions: it fails only when
// a step does not finish.
func TestSimScale(t *testing.T) {
	sizes := os.Getenv("SHOAL_SCALE_NODES")
	if sizes == "" {
		t.Skip("set SHOAL_SCALE_NODES (make bench-scale)")
	}
	perNode := envInt("SHOAL_SCALE_PODS_PER_NODE", 10)
	soak, err := time.ParseDuration(envOr("SHOAL_SCALE_SOAK", "60s"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			t.Fatalf("SHOAL_SCALE_NODES %q: %v", sizes, err)
		}
		t.Run(fmt.Sprintf("nodes=%d", n), func(t *testing.T) {
			r := runScale(t, n, n*perNode, soak)
			b, _ := json.Marshal(r)
			t.Logf("%s", b)
			if out := os.Getenv("SHOAL_BENCH_OUT"); out != "" {
				f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				fmt.Fprintf(f, "%s\n", b)
			}
		})
	}
}

// stepWait is how long a step may take: d, or less when
// SHOAL_SCALE_STEP_WAIT says so (a run that must fit a shared machine's
// slot records where it stopped rather than being cut off unrecorded).
// SHOAL_SCALE_UNTIL (a time, RFC 3339) caps every step's wait and the
// soak: a run that must end by then records where it got to.
func stepWait(d time.Duration) time.Duration {
	if w, err := time.ParseDuration(os.Getenv("SHOAL_SCALE_STEP_WAIT")); err == nil && w > 0 {
		d = min(d, w)
	}
	if until, err := time.Parse(time.RFC3339, os.Getenv("SHOAL_SCALE_UNTIL")); err == nil {
		d = max(0, min(d, time.Until(until)))
	}
	return d
}

// scaleResult is one line of bench/results/scale.jsonl.
type scaleResult struct {
	Name string `json:"name"` // "scale_<nodes>nodes"
	// Variant (SHOAL_SCALE_VARIANT) names a run of other code than the
	// commit's, measured for comparison.
	Variant string `json:"variant,omitempty"`
	// Stopped names the step that did not finish in its time, if any;
	// the figures after it are missing.
	Stopped  string `json:"stopped,omitempty"`
	ReadyMax int    `json:"ready_max,omitempty"` // most nodes seen Ready at once
	// MinMembers is the fewest members an agent's gossip held when the
	// start was given up on.
	MinMembers int `json:"gossip_min_members,omitempty"`
	Nodes      int `json:"nodes"`
	// StartEveryMS spaces the clients' starts (SHOAL_SCALE_START_EVERY);
	// Profile is the agents' gossip profile ("" the LAN one).
	StartEveryMS float64      `json:"start_every_ms,omitempty"`
	Profile      string       `json:"gossip_profile,omitempty"`
	Seats        int          `json:"seats"`
	Pods         int          `json:"pods,omitempty"`
	Load         string       `json:"load"` // /proc/loadavg before and after
	GossipS      float64      `json:"gossip_converged_s,omitempty"`
	ReadyS       float64      `json:"all_ready_s,omitempty"`
	CreateS      float64      `json:"create_s,omitempty"`
	BoundS       float64      `json:"all_bound_s,omitempty"`
	RunningS     float64      `json:"all_running_s,omitempty"`
	BoundRate    float64      `json:"bound_pods_per_s,omitempty"`
	RunRate      float64      `json:"running_pods_per_s,omitempty"`
	CreateP50    float64      `json:"create_p50_ms,omitempty"`
	CreateP99    float64      `json:"create_p99_ms,omitempty"`
	CreateMax    float64      `json:"create_max_ms,omitempty"`
	ListP50      float64      `json:"list_p50_ms,omitempty"`
	ListP99      float64      `json:"list_p99_ms,omitempty"`
	Kills        []killResult `json:"kills"`
	SoakS        float64      `json:"soak_s,omitempty"`
	FalseNR      *int         `json:"false_not_ready,omitempty"` // live nodes seen NotReady, whole run; nil before the soak
	HeapMiB      float64      `json:"heap_inuse_mib,omitempty"`
	HeapPerKiB   float64      `json:"heap_per_node_kib,omitempty"`
	RSSMiB       float64      `json:"rss_mib,omitempty"`
	Goroutines   int          `json:"goroutines,omitempty"`
	CPUCores     float64      `json:"cpu_cores_busy,omitempty"`  // process CPU / wall during the pods phase
	CPUStart     float64      `json:"cpu_cores_start,omitempty"` // a start given up on: process CPU / wall since start
	CPUIdle      float64      `json:"cpu_cores_idle,omitempty"`  // during the soak
	WALMiB       float64      `json:"raft_wal_mib,omitempty"`    // largest seat's
	SnapMiB      float64      `json:"raft_snapshots_mib,omitempty"`
	StateMiB     float64      `json:"state_snapshot_mib,omitempty"` // the state as a snapshot holds it
	RestoreS     float64      `json:"restore_s,omitempty"`          // restoring that into a new state machine
}

type killResult struct {
	Killed       int     `json:"killed,omitempty"`
	Replicas     int     `json:"replicas_lost,omitempty"`
	DetectS      float64 `json:"all_not_ready_s,omitempty"`
	ReplacedS    float64 `json:"replacements_running_s,omitempty"`
	FalsePosWhen int     `json:"false_not_ready"`
}

func runScale(t *testing.T, nodes, pods int, soak time.Duration) scaleResult {
	res := scaleResult{Name: fmt.Sprintf("scale_%dnodes", nodes), Variant: os.Getenv("SHOAL_SCALE_VARIANT"), Nodes: nodes, Pods: pods, Load: loadavg()}
	limitSimMemory(t)
	cfg := DefaultSimConfig(nodes, t.TempDir())
	cfg.MaxPods = max(110, 3*pods/nodes)
	if d, err := time.ParseDuration(os.Getenv("SHOAL_SCALE_START_EVERY")); err == nil && d > 0 {
		cfg.StartEvery = d
	}
	// The spacing used, the default's too: without it the report said
	// "every agent started at once" of runs whose clients started apart.
	res.StartEveryMS = float64(cfg.StartEvery.Microseconds()) / 1000
	res.Profile = cfg.gossipProfile()
	if tune, tuned := simGossipFromEnv(); tune != nil {
		// An experiment: the line says so, as a variant.
		cfg.TuneGossip = tune
		res.Variant = strings.TrimPrefix(res.Variant+"; gossip "+tuned, "; ")
	}
	if f := os.Getenv("SHOAL_SCALE_LOG"); f != "" {
		w, err := os.Create(f)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		cfg.Log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	// The fleet stops after the test recorded its line (cleanups run
	// last): stopping a thousand agents takes a while, and a run cut off
	// then still leaves its figures.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	start := time.Now()
	s, err := StartSim(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxIdleConns: 1024}}
	// Polls give up sooner, so a step's deadline is checked on time.
	poll := &http.Client{Timeout: 10 * time.Second, Transport: hc.Transport}
	all := s.Nodes()
	for _, n := range all {
		if n.Seat {
			res.Seats++
		}
	}
	base := s.API(all[0])
	killed := map[string]bool{}
	falsePos := map[string]bool{}
	// watchReady lists the nodes and records any live node not Ready.
	readyOf := func() (map[string]bool, bool) {
		var l api.NodeList
		if err := getJSONWith(poll, base+"/api/v1/nodes?resourceVersion=0", &l); err != nil {
			return nil, false
		}
		out := map[string]bool{}
		for _, n := range l.Items {
			ready := false
			for _, c := range n.Status.Conditions {
				ready = ready || c.Type == "Ready" && c.Status == api.ConditionTrue
			}
			out[n.ObjectMeta.Name] = ready
		}
		return out, true
	}
	noteFalse := func(r map[string]bool) {
		for name, ok := range r {
			if !ok && !killed[name] && res.ReadyS > 0 {
				falsePos[name] = true
			}
		}
	}

	// Start: gossip converged, every node Ready.
	lastReady := time.Now()
	// readyAt is when the API first listed every node Ready, which may
	// come before gossip converged (checked every 2 s while it waits).
	var readyAt time.Duration
	if !waitFor(t, stepWait(5*time.Minute), "gossip converged", 100*time.Millisecond, func() bool {
		if time.Since(lastReady) > 2*time.Second {
			lastReady = time.Now()
			if r, ok := readyOf(); ok {
				res.ReadyMax = max(res.ReadyMax, countTrue(r))
				if res.ReadyMax == nodes && readyAt == 0 {
					readyAt = time.Since(start)
				}
			}
		}
		res.MinMembers = nodes
		for _, n := range all {
			res.MinMembers = min(res.MinMembers, n.GossipMembers())
		}
		return res.MinMembers == nodes
	}) {
		res.Stopped = "gossip converged"
		res.footprint(nodes, start)
		return res
	}
	res.MinMembers = 0
	res.GossipS = time.Since(start).Seconds()
	if !waitFor(t, stepWait(5*time.Minute), "every node Ready", 250*time.Millisecond, func() bool {
		r, ok := readyOf()
		if !ok {
			return false
		}
		ready := countTrue(r)
		res.ReadyMax = max(res.ReadyMax, ready)
		return ready == nodes
	}) {
		res.Stopped = "every node Ready"
		res.footprint(nodes, start)
		return res
	}
	res.ReadyS = time.Since(start).Seconds()
	if readyAt > 0 {
		res.ReadyS = readyAt.Seconds()
	}

	// Pods: half by RCs of 100, half bare, through the clients' APIs.
	rcs := pods / 2 / 100
	bare := pods - rcs*100
	var (
		latMu sync.Mutex
		lat   []float64
	)
	// accepted counts the pods the API took (an RC's hundred once it is
	// created); the run waits for those.
	var accepted, acceptedRC atomic.Int64
	post := func(url, body string, pods int) bool {
		for attempt := 0; ; attempt++ {
			t0 := time.Now()
			resp, err := hc.Post(url, "application/yaml", strings.NewReader(body))
			d := time.Since(t0)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusConflict && attempt > 0 {
					accepted.Add(int64(pods)) // an earlier attempt was applied, its answer lost
					return true
				}
				if resp.StatusCode == http.StatusCreated {
					latMu.Lock()
					lat = append(lat, float64(d.Microseconds())/1000)
					latMu.Unlock()
					accepted.Add(int64(pods))
					return true
				}
				err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(b))
			}
			if attempt == 8 { // about 50 s: longer than an election
				t.Errorf("POST %s: %v", url, err)
				return false
			}
			time.Sleep(200 * time.Millisecond << attempt)
		}
	}
	apis := make([]string, 0, nodes)
	for _, n := range all[res.Seats:] {
		apis = append(apis, s.API(n))
	}
	if len(apis) == 0 {
		apis = append(apis, base)
	}
	cpu0, wall0 := cpuSeconds(), time.Now()
	createStart := time.Now()
	work := make(chan func())
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				f()
			}
		}()
	}
	for i := 0; i < rcs; i++ {
		url := apis[i%len(apis)] + "/api/v1/namespaces/default/replicationcontrollers"
		body := fmt.Sprintf(scaleRC, i, i, i)
		work <- func() {
			if post(url, body, 100) {
				acceptedRC.Add(100)
			}
		}
	}
	for i := 0; i < bare; i++ {
		url := apis[i%len(apis)] + "/api/v1/namespaces/default/pods"
		body := fmt.Sprintf(scalePod, i)
		work <- func() { post(url, body, 1) }
	}
	close(work)
	var (
		listLat        []float64
		boundAt, runAt time.Duration
		createdAt      time.Duration
		created        = make(chan struct{})
		createdOnce    sync.Once
		podsByNode     map[string][]api.Pod
	)
	go func() { wg.Wait(); createdOnce.Do(func() { close(created) }) }()
	podsDone := waitFor(t, stepWait(15*time.Minute), fmt.Sprintf("%d pods bound and Running", pods), 500*time.Millisecond, func() bool {
		select {
		case <-created:
			if createdAt == 0 {
				createdAt = time.Since(createStart)
			}
		default:
		}
		t0 := time.Now()
		var l api.PodList
		if err := getJSONWith(hc, base+"/api/v1/namespaces/default/pods?resourceVersion=0", &l); err != nil {
			return false
		}
		listLat = append(listLat, float64(time.Since(t0).Microseconds())/1000)
		b, r := 0, 0
		byNode := map[string][]api.Pod{}
		for _, p := range l.Items {
			if p.Spec.NodeName != "" {
				b++
				byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
			}
			if p.Status.Phase == api.PodRunning {
				r++
			}
		}
		want := pods
		select {
		case <-created:
			want = int(accepted.Load())
		default:
		}
		if b >= want && boundAt == 0 {
			boundAt = time.Since(createStart)
		}
		if r >= want && runAt == 0 {
			runAt = time.Since(createStart)
		}
		podsByNode = byNode
		return boundAt > 0 && runAt > 0
	})
	cpu1, wall1 := cpuSeconds(), time.Now()
	<-created
	if !podsDone {
		res.Stopped = "pods bound and Running"
		return res
	}
	if createdAt == 0 {
		createdAt = time.Since(createStart)
	}
	res.CreateS, res.BoundS, res.RunningS = createdAt.Seconds(), boundAt.Seconds(), runAt.Seconds()
	res.Pods = int(accepted.Load())
	res.BoundRate, res.RunRate = float64(res.Pods)/res.BoundS, float64(res.Pods)/res.RunningS
	res.CreateP50, res.CreateP99, res.CreateMax = pct(lat, 50), pct(lat, 99), pct(lat, 100)
	res.ListP50, res.ListP99 = pct(listLat, 50), pct(listLat, 99)
	res.CPUCores = (cpu1 - cpu0) / wall1.Sub(wall0).Seconds()
	res.memory(nodes)

	// Crashes: 1% and then 10% of the clients at once.
	rng := rand.New(rand.NewSource(int64(nodes)))
	clients := slices.Clone(all[res.Seats:])
	rng.Shuffle(len(clients), func(i, j int) { clients[i], clients[j] = clients[j], clients[i] })
	for _, pct := range []int{1, 10} {
		k := max(1, nodes*pct/100)
		if k > len(clients) {
			break
		}
		victims := clients[:k]
		clients = clients[k:]
		kr := killResult{Killed: k}
		for _, v := range victims {
			for _, p := range podsByNode[v.Name] {
				if api.ControllerOf(&p) != nil {
					kr.Replicas++
				}
			}
		}
		t0 := time.Now()
		var kwg sync.WaitGroup
		for _, v := range victims {
			killed[v.Name] = true
			kwg.Add(1)
			go func() { defer kwg.Done(); _ = v.Kill() }()
		}
		if !waitFor(t, stepWait(5*time.Minute), fmt.Sprintf("%d killed nodes NotReady", k), 100*time.Millisecond, func() bool {
			r, ok := readyOf()
			if !ok {
				return false
			}
			noteFalse(r)
			for _, v := range victims {
				if r[v.Name] {
					return false
				}
			}
			return true
		}) {
			res.Stopped = fmt.Sprintf("crash of %d%%: NotReady", pct)
			kwg.Wait()
			return res
		}
		kr.DetectS = time.Since(t0).Seconds()
		if !waitFor(t, stepWait(10*time.Minute), "replacements Running", 250*time.Millisecond, func() bool {
			var l api.PodList
			if err := getJSONWith(poll, base+"/api/v1/namespaces/default/pods?resourceVersion=0&labelSelector=scale%3Drc", &l); err != nil {
				return false
			}
			live := 0
			for _, p := range l.Items {
				if !killed[p.Spec.NodeName] && p.Status.Phase == api.PodRunning {
					live++
				}
			}
			return live == int(acceptedRC.Load())
		}) {
			res.Stopped = fmt.Sprintf("crash of %d%%: replacements", pct)
			kwg.Wait()
			return res
		}
		kr.ReplacedS = time.Since(t0).Seconds()
		kwg.Wait()
		kr.FalsePosWhen = len(falsePos)
		res.Kills = append(res.Kills, kr)
	}

	// Idle soak: nothing changes; any live node seen NotReady is a false
	// positive.
	cpu2, soakStart := cpuSeconds(), time.Now()
	soak = stepWait(soak)
	for time.Since(soakStart) < soak {
		if r, ok := readyOf(); ok {
			noteFalse(r)
		}
		time.Sleep(time.Second)
	}
	res.SoakS = time.Since(soakStart).Seconds()
	res.CPUIdle = (cpuSeconds() - cpu2) / res.SoakS
	falseNR := len(falsePos)
	res.FalseNR = &falseNR
	if len(falsePos) > 0 {
		t.Logf("live nodes seen NotReady: %v", keysOf(falsePos))
	}
	for _, n := range all {
		if !n.Seat {
			continue
		}
		dir := filepath.Join(cfg.Dir, n.Name, "raft", "raft")
		res.WALMiB = max(res.WALMiB, dirMiB(filepath.Join(dir, "wal")))
		res.SnapMiB = max(res.SnapMiB, dirMiB(filepath.Join(dir, "snapshots")))
	}
	res.StateMiB, res.RestoreS = restoreTime(t, all[0])
	res.Load += " -> " + loadavg()
	return res
}

// restoreTime snapshots the first seat's state machine into memory and
// times restoring it into a new one: what a seat that catches up by
// snapshot, or restarts from one, spends before it serves. The
// snapshot's size is the state's as Raft would write it.
func restoreTime(t *testing.T, n *SimNode) (mib, seconds float64) {
	a := n.a.Load()
	if a == nil {
		return 0, 0
	}
	role := a.role.Load()
	if role == nil {
		return 0, 0
	}
	fsm, ok := role.fsm.(*consensus.FSM)
	if !ok {
		return 0, 0
	}
	snap, err := fsm.Snapshot()
	if err != nil {
		t.Logf("snapshot for the restore time: %v", err)
		return 0, 0
	}
	var sink memSnapshotSink
	if err := snap.Persist(&sink); err != nil {
		t.Logf("persist for the restore time: %v", err)
		return 0, 0
	}
	t0 := time.Now()
	if err := consensus.NewFSM().Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Logf("restore: %v", err)
		return 0, 0
	}
	return float64(sink.Len()) / (1 << 20), time.Since(t0).Seconds()
}

// memSnapshotSink keeps a snapshot in memory (raft.SnapshotSink).
type memSnapshotSink struct{ bytes.Buffer }

func (*memSnapshotSink) ID() string    { return "mem" }
func (*memSnapshotSink) Cancel() error { return nil }
func (*memSnapshotSink) Close() error  { return nil }

const scaleRC = `apiVersion: v1
kind: ReplicationController
metadata: {name: rc%d}
spec:
  replicas: 100
  selector: {scale: rc, rc: "%d"}
  template:
    metadata: {labels: {scale: rc, rc: "%d"}}
    spec:
      containers:
      - name: app
        image: shoal.local/busybox:1
        resources: {requests: {memory: 10Mi, cpu: 10m}}
`

const scalePod = `apiVersion: v1
kind: Pod
metadata: {name: bare%d, labels: {scale: bare}}
spec:
  containers:
  - name: app
    image: shoal.local/busybox:1
    resources: {requests: {memory: 10Mi, cpu: 10m}}
`

// footprint records memory and the CPU since start of a run given up on.
func (res *scaleResult) footprint(nodes int, start time.Time) {
	res.memory(nodes)
	res.CPUStart = cpuSeconds() / time.Since(start).Seconds()
	res.Load += " -> " + loadavg()
}

// memory records the process's heap after a collection, per hollow node,
// its RSS and its goroutines.
func (res *scaleResult) memory(nodes int) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	res.HeapMiB = float64(ms.HeapInuse) / (1 << 20)
	res.HeapPerKiB = float64(ms.HeapInuse) / 1024 / float64(nodes)
	res.RSSMiB = rssMiB()
	res.Goroutines = runtime.NumGoroutine()
}

func countTrue(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds (true) or d is up (false, logged).
func waitFor(t *testing.T, d time.Duration, what string, every time.Duration, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("timed out after %v waiting for %s", d, what)
			return false
		}
		time.Sleep(every)
	}
	return true
}

func getJSONWith(hc *http.Client, url string, out any) error {
	resp, err := hc.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// pct is the p-th percentile (nearest rank) of xs.
func pct(xs []float64, p int) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

func cpuSeconds() float64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

func rssMiB() float64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func dirMiB(dir string) float64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return float64(n) / (1 << 20)
}

func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
