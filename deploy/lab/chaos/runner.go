package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/deploy/lab"
)

// Config is one chaos run.
type Config struct {
	// Name and StateRoot name the lab the run builds (and removes).
	Name, StateRoot string
	// Nodes in the lab (default 5, of which 3 hold Raft seats).
	Nodes int
	// Duration: no new episode starts after it; the last one finishes.
	Duration time.Duration
	Seed     uint64
	// ImageArchive is an OCI archive imported into every node; Image is
	// the reference in it the workload runs (a busybox with sh and sleep).
	ImageArchive, Image string
	// Bound is how long the fleet may take to get every RC back to its
	// count and containerd in line with the state after a fault or heal
	// (default 2 minutes: a broken fleet, not a speed assertion).
	Bound time.Duration
	// Keep leaves the lab up at the end (no leak check).
	Keep bool
	// Log receives progress lines and the summary.
	Log io.Writer
}

func (c Config) withDefaults() Config {
	if c.Nodes == 0 {
		c.Nodes = 5
	}
	if c.Bound == 0 {
		c.Bound = 2 * time.Minute
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c
}

// Workload: two RCs and a few bare pods, small enough for 5 nodes of 1Gi
// whatever the scale ops ask.
var workloadRCs = map[string]int32{"rc-a": 3, "rc-b": 2}

const (
	// MaxReplicas bounds the counts scale writes ask for.
	MaxReplicas  = 6
	maxBarePods  = 6
	initialBare  = 3
	podMemory    = "16Mi"
	barePodLabel = "chaos-bare"
)

// Runner holds one run's state.
type Runner struct {
	cfg    Config
	fl     *Fleet
	sched  *Schedule
	ledger *Ledger
	rep    *Report

	mu   sync.Mutex
	down map[string]bool // killed: nothing of the node runs
	cut  map[string]bool // partitioned: runs, but unreachable
	// ctrDown: the lab's containerd is killed (ContainerdRestart).
	ctrDown bool

	nextBare int

	// quiet is set once the fleet has settled and cleared when the next
	// episode starts; quietGen counts the settles, so a check that spans
	// the start of an episode is not taken for one in the quiet.
	quiet    bool
	quietGen int
}

// Run builds the lab, runs the schedule until the duration is spent,
// heals, checks, removes the lab and checks nothing leaked. The report
// holds the figures; err is set when the run itself could not go on (the
// lab would not come up, say), not for violations (see Report.Violations).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	r := &Runner{
		cfg: cfg, sched: NewSchedule(cfg.Seed, MaxReplicas), ledger: NewLedger(), rep: newReport(cfg.Seed),
		down: map[string]bool{}, cut: map[string]bool{},
	}
	start := time.Now()
	r.logf("chaos: lab %s, %d nodes, seed %d, duration %v", cfg.Name, cfg.Nodes, cfg.Seed, cfg.Duration)
	l, err := lab.Up(ctx, lab.Config{Name: cfg.Name, StateRoot: cfg.StateRoot, Nodes: cfg.Nodes, NodeMemory: []string{"1Gi"}, Progress: cfg.Log})
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	downed := false
	defer func() {
		if !cfg.Keep && !downed {
			_ = lab.Down(context.WithoutCancel(ctx), cfg.StateRoot, cfg.Name)
		}
	}()
	r.fl, err = NewFleet(l)
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	defer r.fl.Close()

	if err := r.fl.ImportImage(ctx, l.Nodes[0].Name, cfg.ImageArchive); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	if err := r.startWorkload(ctx); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	r.settle(ctx, "workload started", nil)

	wctx, stopWatch := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.watch(wctx) }()
	hist := NewRecorder(r.fl, cfg.Seed)
	hctx, stopHistory := context.WithCancel(ctx)
	var hwg sync.WaitGroup
	hwg.Add(1)
	go func() { defer hwg.Done(); hist.Run(hctx) }()

	for time.Since(start) < cfg.Duration && ctx.Err() == nil {
		ep := r.sched.Next()
		r.logf("episode %s", ep)
		r.runEpisode(ctx, ep)
	}
	r.healAll(ctx)
	r.settle(ctx, "end of run", nil)
	stopHistory()
	hwg.Wait()
	stopWatch()
	wg.Wait()
	if ctx.Err() != nil {
		return r.rep, fmt.Errorf("chaos: interrupted: %w", ctx.Err())
	}
	r.rep.Writes = r.ledger.Counts()
	r.rep.figures(hist.Calls())
	r.checkHistory(hist)

	if !cfg.Keep {
		downed = true
		if err := lab.Down(ctx, cfg.StateRoot, cfg.Name); err != nil {
			r.violation(InvLeaks, fmt.Sprintf("lab down failed: %v", err))
		}
		shared := ""
		if !l.OwnContainerd {
			shared = l.Containerd
		}
		left, err := lab.Leftovers(ctx, cfg.StateRoot, cfg.Name, shared)
		r.rep.checked(InvLeaks)
		if err != nil {
			r.violation(InvLeaks, err.Error())
		}
		for _, s := range left {
			r.violation(InvLeaks, "left after down: "+s)
		}
	}
	r.rep.Elapsed = time.Since(start)
	return r.rep, nil
}

func (r *Runner) logf(format string, args ...any) {
	fmt.Fprintf(r.cfg.Log, "%s %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (r *Runner) violation(inv Invariant, what string) {
	if r.rep.violation(inv, what) {
		r.logf("VIOLATION %s: %s", inv, what)
	}
}

// away is every node the runner faulted and has not healed.
func (r *Runner) away() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]bool{}
	for n := range r.down {
		out[n] = true
	}
	for n := range r.cut {
		out[n] = true
	}
	return out
}

func (r *Runner) killed() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]bool{}
	for n := range r.down {
		out[n] = true
	}
	return out
}

func (r *Runner) pod(name string) *api.Pod {
	c := api.Container{
		Name:  "c",
		Image: r.cfg.Image,
		// sh as PID 1 with a TERM trap, so a stop takes no grace period.
		Command: []string{"sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"},
		Resources: api.ResourceRequirements{Requests: api.ResourceList{
			api.ResourceMemory: resource.MustParse(podMemory),
		}},
	}
	return &api.Pod{
		TypeMeta:   api.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: Namespace, Labels: map[string]string{"app": barePodLabel}},
		Spec:       api.PodSpec{Containers: []api.Container{c}},
	}
}

func (r *Runner) rc(name string, replicas int32) *api.ReplicationController {
	tmpl := r.pod("")
	tmpl.ObjectMeta.Labels = map[string]string{"app": name}
	return &api.ReplicationController{
		TypeMeta:   api.TypeMeta{APIVersion: "v1", Kind: "ReplicationController"},
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: Namespace},
		Spec: api.ReplicationControllerSpec{
			Replicas: &replicas,
			Selector: map[string]string{"app": name},
			Template: &api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: tmpl.ObjectMeta.Labels}, Spec: tmpl.Spec},
		},
	}
}

// writeUntilAcked retries a setup write until the fleet acknowledges it;
// a create that already landed answers 409 and counts as done.
func (r *Runner) writeUntilAcked(ctx context.Context, key string, v value, send func(node string) (Outcome, error)) error {
	deadline := time.Now().Add(r.cfg.Bound)
	for {
		node := r.fl.NodeNames()[0]
		r.ledger.Begin(key, v)
		o, err := send(node)
		var se *statusError
		if o == Rejected && errors.As(err, &se) && se.Code == 409 {
			o = Acked
		}
		r.ledger.End(key, v, o)
		if o == Acked {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("setup write %s never acknowledged: %w", key, err)
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
}

func (r *Runner) startWorkload(ctx context.Context) error {
	names := make([]string, 0, len(workloadRCs))
	for n := range workloadRCs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		rc := r.rc(n, workloadRCs[n])
		if err := r.writeUntilAcked(ctx, "rc/"+n, value{Present: true, Replicas: workloadRCs[n]}, func(node string) (Outcome, error) {
			return r.fl.CreateRC(ctx, node, rc)
		}); err != nil {
			return err
		}
	}
	for range initialBare {
		r.nextBare++
		name := fmt.Sprintf("bare-%d", r.nextBare)
		if err := r.writeUntilAcked(ctx, "pod/"+name, value{Present: true, Replicas: -1}, func(node string) (Outcome, error) {
			return r.fl.CreatePod(ctx, node, r.pod(name))
		}); err != nil {
			return err
		}
	}
	return nil
}

// writeNode picks the node a write goes through: any node the runner has
// not faulted, so that forwarding to the leader is exercised too.
func (r *Runner) writeNode(pick uint32) string {
	away := r.away()
	var live []string
	for _, n := range r.fl.NodeNames() {
		if !away[n] {
			live = append(live, n)
		}
	}
	if len(live) == 0 {
		return r.fl.NodeNames()[0]
	}
	return live[int(pick%uint32(len(live)))]
}

// runOp makes one write and logs it in the ledger.
func (r *Runner) runOp(ctx context.Context, op Op) {
	node := r.writeNode(op.Pick / 3)
	var key string
	var v value
	var send func() (Outcome, error)
	kind := op.Kind
	bare := r.ledger.Present("pod/")
	if kind == OpCreatePod && len(bare) >= maxBarePods {
		kind = OpDeletePod
	}
	if kind == OpDeletePod && len(bare) == 0 {
		kind = OpCreatePod
	}
	switch kind {
	case OpScale:
		names := make([]string, 0, len(workloadRCs))
		for n := range workloadRCs {
			names = append(names, n)
		}
		sort.Strings(names)
		name := names[int(op.Pick%uint32(len(names)))]
		key, v = "rc/"+name, value{Present: true, Replicas: op.Replicas}
		send = func() (Outcome, error) { return r.fl.Scale(ctx, node, name, op.Replicas) }
	case OpCreatePod:
		r.nextBare++
		name := fmt.Sprintf("bare-%d", r.nextBare)
		key, v = "pod/"+name, value{Present: true, Replicas: -1}
		send = func() (Outcome, error) { return r.fl.CreatePod(ctx, node, r.pod(name)) }
	case OpDeletePod:
		name := bare[int(op.Pick%uint32(len(bare)))]
		key, v = "pod/"+name, value{}
		send = func() (Outcome, error) { return r.fl.DeletePod(ctx, node, name) }
	}
	r.ledger.Begin(key, v)
	o, err := send()
	r.ledger.End(key, v, o)
	r.rep.op(kind, o)
	if err != nil {
		r.logf("  %s %s via %s: %s (%v)", kind, key, node, o, err)
	} else {
		r.logf("  %s %s via %s: %s", kind, key, node, o)
	}
}

func (r *Runner) runOps(ctx context.Context, ops []Op) {
	for _, op := range ops {
		if sleep(ctx, op.After) != nil {
			return
		}
		r.runOp(ctx, op)
	}
}

// roles reads who leads and who votes, waiting for a leader.
func (r *Runner) roles(ctx context.Context) (leader string, followers, clients []string, err error) {
	deadline := time.Now().Add(r.cfg.Bound)
	for {
		leader, err = r.fl.Leader(ctx, r.away())
		var voters []string
		if err == nil {
			voters, err = r.fl.Voters(ctx, leader)
		}
		if err == nil {
			isVoter := map[string]bool{}
			for _, v := range voters {
				isVoter[v] = true
				if v != leader {
					followers = append(followers, v)
				}
			}
			for _, n := range r.fl.NodeNames() {
				if !isVoter[n] {
					clients = append(clients, n)
				}
			}
			return leader, followers, clients, nil
		}
		if time.Now().After(deadline) {
			return "", nil, nil, fmt.Errorf("no leader within %v: %w", r.cfg.Bound, err)
		}
		if err := sleep(ctx, time.Second); err != nil {
			return "", nil, nil, err
		}
	}
}

// Fault is one node to kill (power cut) or cut off.
type Fault struct {
	Kill bool
	Node string
}

// faultsFor chooses an episode's victims from the fleet's roles: distinct
// nodes, and never more than one voter, so quorum holds, except in
// QuorumLoss and KillTwoSeats, which take exactly two of them on purpose.
func faultsFor(kind FaultKind, p uint32, leader string, followers, clients []string) []Fault {
	nonLeaders := append(append([]string{}, followers...), clients...)
	sort.Strings(nonLeaders)
	switch kind {
	case KillLeader:
		return []Fault{{true, leader}}
	case KillServer:
		return []Fault{{true, pick(followers, p)}}
	case KillClient:
		if len(clients) == 0 {
			return []Fault{{true, pick(followers, p)}}
		}
		return []Fault{{true, pick(clients, p)}}
	case PartitionNode:
		return []Fault{{false, pick(nonLeaders, p)}}
	case PartitionLeader:
		return []Fault{{false, leader}}
	case KillClientPartitionServer:
		out := []Fault{{false, pick(followers, p/7)}}
		if len(clients) > 0 {
			out = append([]Fault{{true, pick(clients, p)}}, out...)
		}
		return out
	case QuorumLoss:
		return []Fault{{false, leader}, {false, pick(followers, p)}}
	case KillTwoSeats:
		return []Fault{{true, leader}, {true, pick(followers, p)}}
	}
	return nil
}

func pick(list []string, p uint32) string {
	if len(list) == 0 {
		return ""
	}
	return list[int(p%uint32(len(list)))]
}

func (r *Runner) kill(ctx context.Context, node string) error {
	if err := lab.Kill(ctx, r.cfg.StateRoot, r.cfg.Name, node); err != nil {
		return err
	}
	r.mu.Lock()
	r.down[node] = true
	r.mu.Unlock()
	return nil
}

func (r *Runner) partition(ctx context.Context, node string) error {
	if err := lab.Partition(ctx, r.cfg.StateRoot, r.cfg.Name, node); err != nil {
		return err
	}
	r.mu.Lock()
	r.cut[node] = true
	r.mu.Unlock()
	return nil
}

func (r *Runner) healAll(ctx context.Context) {
	r.startContainerd(ctx) // runner_containerd.go
	for _, n := range r.fl.NodeNames() {
		if !r.away()[n] {
			continue
		}
		if err := lab.Heal(ctx, r.cfg.StateRoot, r.cfg.Name, n); err != nil {
			r.logf("heal %s: %v", n, err)
			continue
		}
		r.mu.Lock()
		delete(r.down, n)
		delete(r.cut, n)
		r.mu.Unlock()
	}
}

// setQuiet marks the fleet settled (until the next episode) or not, and
// returns the settle's generation.
func (r *Runner) setQuiet(q bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.quiet = q
	if q {
		r.quietGen++
	}
	return r.quietGen
}

// quietNow reports whether the fleet is settled and since which settle.
func (r *Runner) quietNow() (bool, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.quiet, r.quietGen
}

// checkNeverAbove checks (g) on o, taken while the fleet was settled.
func (r *Runner) checkNeverAbove(o Observation, when string) {
	r.rep.checked(InvNeverAbove)
	for _, s := range ReplicaExcess(o) {
		r.violation(InvNeverAbove, when+": "+s)
	}
}

func (r *Runner) runEpisode(ctx context.Context, ep Episode) {
	r.setQuiet(false)
	leader, followers, clients, err := r.roles(ctx)
	if err != nil {
		r.violation(InvReplicas, fmt.Sprintf("episode %d: %v", ep.N, err))
		return
	}
	if ep.Kind == RollingRestart {
		r.rollingRestart(ctx, ep)
		return
	}
	if ep.Kind == ContainerdRestart {
		r.containerdRestart(ctx, ep) // runner_containerd.go
		return
	}
	faults := faultsFor(ep.Kind, ep.Pick, leader, followers, clients)
	start := time.Now()
	r.rep.episodeBegan(ep.Kind, start)
	defer func() { r.rep.episodeEnded(time.Now()) }()
	var victims []string
	for _, f := range faults {
		var err error
		if f.Kill {
			err = r.kill(ctx, f.Node)
		} else {
			err = r.partition(ctx, f.Node)
		}
		if err != nil {
			r.logf("  fault on %s: %v", f.Node, err)
			continue
		}
		victims = append(victims, f.Node)
	}
	r.rep.fault(ep.Kind)
	r.logf("  %s: %v (leader was %s)", ep.Kind, victims, leader)

	if ep.Kind == QuorumLoss || ep.Kind == KillTwoSeats {
		// Nothing can be acknowledged now; the writes are ambiguous or
		// rejected and must not show up as lost later. After two seats
		// lost power, the heal starts them again from their data dirs:
		// every write acknowledged before must be in the state then.
		r.runOps(ctx, ep.Ops)
		_ = sleep(ctx, ep.Hold)
		healAt := time.Now()
		r.healAll(ctx)
		if d, ok := r.waitRecovered(ctx, nil); ok {
			r.rep.recovered(ep.Kind, time.Since(healAt))
			r.logf("  quorum back and replicas at count %v after the heal", d.Round(100*time.Millisecond))
		}
		r.settle(ctx, fmt.Sprintf("episode %d healed", ep.N), nil)
		return
	}

	// kill/partition -> every RC back to count off the faulted nodes.
	if _, ok := r.waitRecovered(ctx, r.away()); ok {
		d := time.Since(start)
		r.rep.recovered(ep.Kind, d)
		r.logf("  replicas back at count off %v after %v", victims, d.Round(100*time.Millisecond))
	} else {
		r.violation(InvReplicas, fmt.Sprintf("episode %d %s: RCs not back to count within %v with %v away", ep.N, ep.Kind, r.cfg.Bound, victims))
	}
	// Scale and write while the faults are still active.
	r.runOps(ctx, ep.Ops)
	if _, ok := r.waitRecovered(ctx, r.away()); !ok {
		r.violation(InvReplicas, fmt.Sprintf("episode %d %s: RCs not at their new count within %v with %v away", ep.N, ep.Kind, r.cfg.Bound, victims))
	}
	_ = sleep(ctx, ep.Hold)
	r.healAll(ctx)
	r.settle(ctx, fmt.Sprintf("episode %d healed", ep.N), nil)
}

// rollingRestart kill -9s every agent in turn and starts it again, as an
// upgrade would; each must be back before the next goes, and writes go on
// between restarts.
func (r *Runner) rollingRestart(ctx context.Context, ep Episode) {
	r.rep.episodeBegan(ep.Kind, time.Now())
	defer func() { r.rep.episodeEnded(time.Now()) }()
	for i, n := range r.fl.NodeNames() {
		start := time.Now()
		if err := lab.RestartAgent(ctx, r.cfg.StateRoot, r.cfg.Name, n); err != nil {
			r.logf("  restart %s: %v", n, err)
			continue
		}
		r.rep.fault(ep.Kind)
		if i < len(ep.Ops) {
			r.runOps(ctx, ep.Ops[i:i+1])
		}
		if r.waitFleetWhole(ctx) {
			if _, ok := r.waitRecovered(ctx, nil); ok {
				r.rep.recovered(ep.Kind, time.Since(start))
				continue
			}
		}
		r.violation(InvReplicas, fmt.Sprintf("episode %d: fleet not whole within %v after restarting %s", ep.N, r.cfg.Bound, n))
	}
	r.logf("  rolling restart done")
	r.settle(ctx, fmt.Sprintf("episode %d rolling restart", ep.N), nil)
}

// waitFleetWhole waits until every agent answers and the leader's state
// holds every node Ready.
func (r *Runner) waitFleetWhole(ctx context.Context) bool {
	deadline := time.Now().Add(r.cfg.Bound)
	for time.Now().Before(deadline) {
		ok := true
		for _, n := range r.fl.NodeNames() {
			ok = ok && r.fl.Healthy(ctx, n)
		}
		if ok {
			leader, err := r.fl.Leader(ctx, nil)
			if err == nil {
				ready, err := r.fl.ReadyNodes(ctx, leader)
				voters, verr := r.fl.Voters(ctx, leader)
				if err == nil && verr == nil && len(ready) == len(r.fl.NodeNames()) && len(voters) == min(3, len(r.fl.NodeNames())) {
					return true
				}
			}
		}
		if sleep(ctx, time.Second) != nil {
			return false
		}
	}
	return false
}

// observe reads the state from the leader (skipping away nodes) and what
// runs on every node not killed.
func (r *Runner) observe(ctx context.Context, away map[string]bool) (Observation, error) {
	return r.fl.Observe(ctx, away, r.killed())
}

// waitRecovered waits until every RC has its count Running off the away
// nodes, and returns how long that took.
func (r *Runner) waitRecovered(ctx context.Context, away map[string]bool) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < r.cfg.Bound {
		skip := r.away()
		for n := range away {
			skip[n] = true
		}
		leader, err := r.fl.Leader(ctx, skip)
		if err == nil {
			pods, perr := r.fl.Pods(ctx, leader)
			rcs, rerr := r.fl.RCs(ctx, leader)
			if perr == nil && rerr == nil && len(ReplicaShortfalls(Observation{Pods: pods, RCs: rcs}, away)) == 0 {
				return time.Since(start), true
			}
		}
		if sleep(ctx, 500*time.Millisecond) != nil {
			break
		}
	}
	return time.Since(start), false
}

// settle waits, within the bound, for a whole fleet where every RC is at
// count, every bare pod Running and containerd exactly the state; then
// checks it holds a few seconds and that every acked write is there. What
// still fails at the bound is a violation.
func (r *Runner) settle(ctx context.Context, when string, _ map[string]bool) {
	start := time.Now()
	whole := r.waitFleetWhole(ctx)
	var last Observation
	var lastErr error
	var rcs, bare, ctr []string
	deadline := start.Add(r.cfg.Bound)
	for {
		last, lastErr = r.observe(ctx, nil)
		if lastErr == nil {
			rcs, bare, ctr = ReplicaShortfalls(last, nil), NotRunning(last), ContainerdMismatch(last)
			if whole && len(rcs)+len(bare)+len(ctr) == 0 {
				break
			}
		}
		if time.Now().After(deadline) || sleep(ctx, time.Second) != nil {
			break
		}
		if !whole {
			whole = r.waitFleetWhole(ctx)
		}
	}
	r.rep.checked(InvContainerd)
	r.rep.checked(InvReplicas)
	switch {
	case lastErr != nil:
		r.violation(InvReplicas, fmt.Sprintf("%s: could not read the fleet within %v: %v", when, r.cfg.Bound, lastErr))
	case !whole:
		r.violation(InvReplicas, fmt.Sprintf("%s: fleet not whole (agents, Ready nodes, 3 voters) within %v", when, r.cfg.Bound))
	}
	for _, s := range rcs {
		r.violation(InvReplicas, when+": "+s)
	}
	for _, s := range append(bare, ctr...) {
		r.violation(InvContainerd, when+": "+s)
	}
	if lastErr == nil && len(rcs)+len(bare)+len(ctr) == 0 {
		r.logf("  settled (%s) in %v: %d pods, containerd = state", when, time.Since(start).Round(100*time.Millisecond), len(last.Pods))
		r.setQuiet(true)
		r.checkNeverAbove(last, when)
		// It must stay so: no replica comes back to life a moment later.
		for range 3 {
			if sleep(ctx, 2*time.Second) != nil {
				return
			}
			o, err := r.observe(ctx, nil)
			if err != nil {
				continue
			}
			for _, s := range ContainerdMismatch(o) {
				r.violation(InvContainerd, when+" (held): "+s)
			}
			r.checkNeverAbove(o, when+" (held)")
			last = o
		}
	}
	r.checkIPs(last)
	r.checkAcked(ctx, when)
}

func (r *Runner) checkIPs(o Observation) {
	r.rep.checked(InvIPs)
	for _, s := range DuplicateIPs(o) {
		r.violation(InvIPs, s)
	}
}

// checkAcked compares the ledger with the leader's state, giving a state
// that lags (a new leader still applying) a moment to catch up.
func (r *Runner) checkAcked(ctx context.Context, when string) {
	r.rep.checked(InvAcked)
	var findings []string
	for try := 0; try < 20; try++ {
		o, err := r.observe(ctx, r.away())
		if err == nil {
			if findings = r.ledger.Check(o); len(findings) == 0 {
				return
			}
		}
		if sleep(ctx, time.Second) != nil {
			return
		}
	}
	for _, s := range findings {
		r.violation(InvAcked, when+": "+s)
	}
}

// watch checks all along: no pod runs twice, no IP is held twice, and
// acked writes hold after each leader change.
func (r *Runner) watch(ctx context.Context) {
	acked := newPersistent(20 * time.Second)
	lastLeader := ""
	for sleep(ctx, 2*time.Second) == nil {
		away := r.away()
		quiet, gen := r.quietNow()
		o, err := r.observe(ctx, away)
		if err != nil {
			continue
		}
		if q, g := r.quietNow(); quiet && q && g == gen {
			r.checkNeverAbove(o, "settled")
		}
		r.rep.checked(InvContainerd)
		for _, s := range DoubleRuns(o) {
			r.violation(InvContainerd, "during faults: "+s)
		}
		r.checkIPs(o)
		if leader, err := r.fl.Leader(ctx, away); err == nil && leader != lastLeader {
			if lastLeader != "" {
				r.logf("  leader %s -> %s", lastLeader, leader)
				r.rep.leaderChanged()
			}
			lastLeader = leader
		}
		r.rep.checked(InvAcked)
		for _, s := range acked.observe(r.ledger.Check(o), time.Now()) {
			r.violation(InvAcked, "during faults: "+s)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// historyCheckTimeout bounds porcupine's search; a history it cannot
// decide in that time is reported as undecided, not as a violation.
const historyCheckTimeout = 3 * time.Minute

// checkHistory checks the clients' history for linearizability; on a
// violation it names the seed, prints the operations that show it and
// writes porcupine's view of the whole check next to the run.
func (r *Runner) checkHistory(hist *Recorder) {
	ops := hist.Operations()
	r.rep.historyAnswers(hist.Answers(), len(ops))
	start := time.Now()
	v := CheckHistory(ops, historyCheckTimeout)
	r.rep.checked(InvLinear)
	r.rep.historyResult(string(v.Result))
	r.logf("history: %d operations checked in %v: %s", len(ops), time.Since(start).Round(time.Millisecond), v.Result)
	if v.Result != porcupine.Illegal {
		return
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("shoal-chaos-%s-seed%d-history.html", r.cfg.Name, r.cfg.Seed))
	where := "porcupine's view: " + path
	if err := v.Visualize(path); err != nil {
		where = fmt.Sprintf("porcupine's view not written: %v", err)
	}
	for _, w := range v.Witness {
		r.violation(InvLinear, fmt.Sprintf("seed %d: %s  (%s)", r.cfg.Seed, w, where))
	}
}
