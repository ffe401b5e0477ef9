package podruntime

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// Probe kinds.
const (
	probeStartup   = "Startup"
	probeLiveness  = "Liveness"
	probeReadiness = "Readiness"
)

// probeManager keeps one prober goroutine per running container that has
// probes. A prober belongs to one run of its container (runID, the run's
// start time): a restarted container gets a fresh one, as in Kubernetes,
// so readiness and startup are proven again after every restart.
type probeManager struct {
	mu      sync.Mutex
	probers map[string]map[string]*prober // pod uid -> container name
	wg      sync.WaitGroup
	seq     uint64 // exec ids
}

// prober is the state of one container's probes, read by PodStatus and
// SyncPod while its goroutine writes it.
type prober struct {
	runID  string
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	started bool   // the startup probe passed (or there is none)
	ready   bool   // the readiness probe passed (or there is none)
	kill    string // why the container must be restarted; "" while healthy
}

// probeResult is a snapshot of a prober.
type probeResult struct {
	started, ready bool
	kill           string
}

func newProbeManager() *probeManager {
	return &probeManager{probers: map[string]map[string]*prober{}}
}

// ensure starts a prober for this run of the container unless one runs;
// a prober of an earlier run is stopped.
func (m *probeManager) ensure(uid, name, runID string, run func(ctx context.Context, p *prober)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pods := m.probers[uid]
	if pods == nil {
		pods = map[string]*prober{}
		m.probers[uid] = pods
	}
	if old := pods[name]; old != nil {
		if old.runID == runID {
			return
		}
		old.cancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &prober{runID: runID, cancel: cancel, done: make(chan struct{})}
	pods[name] = p
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(p.done)
		run(ctx, p)
	}()
}

// result returns the prober state for this run of the container.
func (m *probeManager) result(uid, name, runID string) (probeResult, bool) {
	m.mu.Lock()
	p := m.probers[uid][name]
	m.mu.Unlock()
	if p == nil || p.runID != runID {
		return probeResult{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return probeResult{started: p.started, ready: p.ready, kill: p.kill}, true
}

// keep stops the probers of a pod's containers not named in names.
func (m *probeManager) keep(uid string, names map[string]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, p := range m.probers[uid] {
		if !names[name] {
			p.cancel()
			delete(m.probers[uid], name)
		}
	}
	if len(m.probers[uid]) == 0 {
		delete(m.probers, uid)
	}
}

// stopContainer stops one container's prober without waiting for it.
func (m *probeManager) stopContainer(uid, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p := m.probers[uid][name]; p != nil {
		p.cancel()
		delete(m.probers[uid], name)
	}
}

// stopPod stops the pod's probers and waits until they are gone. Probers
// take no runtime lock, so this is safe under the pod's lock.
func (m *probeManager) stopPod(uid string) {
	m.mu.Lock()
	pods := m.probers[uid]
	delete(m.probers, uid)
	m.mu.Unlock()
	for _, p := range pods {
		p.cancel()
		<-p.done
	}
}

// stopAll stops every prober and waits for all of them, also for those
// already told to stop.
func (m *probeManager) stopAll() {
	m.mu.Lock()
	for _, pods := range m.probers {
		for _, p := range pods {
			p.cancel()
		}
	}
	m.probers = map[string]map[string]*prober{}
	m.mu.Unlock()
	m.wg.Wait()
}

func (m *probeManager) nextExecID(kind string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	return fmt.Sprintf("probe-%s-%d-%d", kind, time.Now().UnixNano(), m.seq)
}

// probeTarget is what a prober needs about its container.
type probeTarget struct {
	pod         *api.Pod
	container   api.Container
	containerID string
	host        string // the pod IP ("" when unknown)
	netnsPath   string
	startedAt   time.Time   // when this run of the container started
	remembered  probeMemory // what an earlier prober of this run proved
}

// probeState is one probe of a container as its prober runs it.
type probeState struct {
	kind       string
	probe      *api.Probe
	next       time.Time
	successes  int32
	failures   int32
	everPassed bool
}

// runProbes is a prober's goroutine: it runs the container's probes on
// their schedules until ctx ends or a liveness or startup probe fails past
// its threshold (then the container is to be restarted, and its next run
// gets a new prober).
func (r *Runtime) runProbes(ctx context.Context, p *prober, t probeTarget) {
	c := t.container
	// Delays count from the container's start, also for a prober that an
	// agent restart made late in the container's life.
	start := t.startedAt
	if start.IsZero() {
		start = time.Now()
	}
	var startup *probeState
	var others []*probeState
	mk := func(kind string, pr *api.Probe) *probeState {
		return &probeState{kind: kind, probe: pr, next: start.Add(time.Duration(pr.InitialDelaySeconds) * time.Second)}
	}
	if c.StartupProbe != nil {
		startup = mk(probeStartup, c.StartupProbe)
	}
	if c.LivenessProbe != nil {
		others = append(others, mk(probeLiveness, c.LivenessProbe))
	}
	if c.ReadinessProbe != nil {
		others = append(others, mk(probeReadiness, c.ReadinessProbe))
	}
	if startup != nil && t.remembered.started {
		startup.everPassed = true
	}
	p.mu.Lock()
	p.started = startup == nil || t.remembered.started
	p.ready = c.ReadinessProbe == nil || t.remembered.ready
	mem := probeMemory{started: p.started, ready: p.ready}
	p.mu.Unlock()

	for {
		active := others
		if startup != nil && !startup.everPassed {
			active = []*probeState{startup}
		}
		if len(active) == 0 {
			<-ctx.Done()
			return
		}
		due := active[0]
		for _, s := range active[1:] {
			if s.next.Before(due.next) {
				due = s
			}
		}
		timer := time.NewTimer(time.Until(due.next))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		ok, msg := r.check(ctx, due.kind, due.probe, t)
		if ctx.Err() != nil {
			return
		}
		due.next = time.Now().Add(time.Duration(due.probe.PeriodSeconds) * time.Second)
		finished := r.record(p, due, ok, msg, t)
		p.mu.Lock()
		now := probeMemory{started: p.started, ready: p.ready}
		p.mu.Unlock()
		if now != mem {
			mem = now
			r.rememberProbes(ctx, t, p.runID, mem)
			r.changed() // changes.go: the pod's readiness changed
		}
		if finished {
			r.changed() // the container is to be restarted
			return
		}
	}
}

// record applies one probe outcome with the probe's thresholds, and says
// whether the prober is finished (the container is to be restarted).
func (r *Runtime) record(p *prober, s *probeState, ok bool, msg string, t probeTarget) bool {
	if ok {
		s.successes++
		s.failures = 0
		if s.successes < s.probe.SuccessThreshold {
			return false
		}
		s.everPassed = true
		p.mu.Lock()
		defer p.mu.Unlock()
		switch s.kind {
		case probeStartup:
			p.started = true
		case probeReadiness:
			p.ready = true
		}
		return false
	}
	s.failures++
	s.successes = 0
	r.event(t.pod, EventWarning, "Unhealthy", fmt.Sprintf("%s probe failed: %s", s.kind, msg))
	r.log.Info("probe failed", "pod", t.pod.ObjectMeta.UID, "container", t.container.Name, "probe", s.kind, "failures", s.failures, "msg", msg)
	if s.failures < s.probe.FailureThreshold {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch s.kind {
	case probeReadiness:
		p.ready = false
		return false
	case probeLiveness:
		p.kill = fmt.Sprintf("Container %s failed liveness probe, will be restarted", t.container.Name)
	case probeStartup:
		p.kill = fmt.Sprintf("Container %s failed startup probe, will be restarted", t.container.Name)
	}
	return true
}
