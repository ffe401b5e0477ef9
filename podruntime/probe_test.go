package podruntime

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// recordedEvents is an in-memory EventRecorder for tests.
type recordedEvents struct {
	mu     sync.Mutex
	events []string
}

func (e *recordedEvents) Event(pod *api.Pod, typ, reason, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, fmt.Sprintf("%s %s %s: %s", pod.ObjectMeta.Name, typ, reason, msg))
}

func (e *recordedEvents) has(substr string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.events {
		if strings.Contains(ev, substr) {
			return true
		}
	}
	return false
}

func (e *recordedEvents) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.events, "\n")
}

func fastProbe(h api.ProbeHandler) *api.Probe {
	return &api.Probe{ProbeHandler: h, PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1}
}

func condition(st api.PodStatus, typ api.PodConditionType) string {
	for _, c := range st.Conditions {
		if c.Type == typ {
			return string(c.Status)
		}
	}
	return ""
}

func TestLivenessProbeFailureRestartsTheContainer(t *testing.T) {
	r := newTestRuntime(t)
	events := &recordedEvents{}
	r.events = events
	c := shell("main", imageV1, "touch /tmp/healthy; sleep 2; rm /tmp/healthy; exec sleep 1000")
	c.LivenessProbe = fastProbe(api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"cat", "/tmp/healthy"}}})
	pod := newPod(t, "liveness", api.RestartAlways, c)
	st := syncUntil(t, r, pod, "", "restarted by its liveness probe", func(st api.PodStatus) bool {
		cs := st.ContainerStatuses[0]
		return cs.RestartCount >= 1 && cs.LastTerminationState.Terminated != nil
	})
	last := containerStatusOf(t, st, "main").LastTerminationState.Terminated
	if last.ExitCode != 137 || last.Reason != "Error" {
		t.Errorf("last state %+v, want exit code 137 (killed after the stop grace) reason Error", last)
	}
	for _, want := range []string{"Unhealthy: Liveness probe failed", "Killing: Container main failed liveness probe", "Started: Started container main"} {
		if !events.has(want) {
			t.Errorf("no event %q; events:\n%s", want, events)
		}
	}
}

func TestReadinessProbeGatesReadyBothWays(t *testing.T) {
	r := newTestRuntime(t)
	netns := newNetns(t)
	c := shell("web", imageV1, "mkdir -p /www; httpd -p 8080 -h /www; sleep 2; echo ok > /www/ready; sleep 3; rm /www/ready; exec sleep 1000")
	c.Ports = []api.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: "TCP"}}
	c.ReadinessProbe = fastProbe(api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: "/ready", Port: api.FromString("http"), Scheme: "HTTP",
		HTTPHeaders: []api.HTTPHeader{{Name: "X-Probe", Value: "1"}}}})
	pod := newPod(t, "readiness", api.RestartAlways, c)
	// The probe dials the pod IP inside the pod's namespace; here the
	// namespace has only loopback, so loopback stands for the pod IP.
	pod.Status.PodIP = "127.0.0.1"
	st := syncUntil(t, r, pod, netns, "running, not ready", func(st api.PodStatus) bool { return running(st, "web") })
	if cs := containerStatusOf(t, st, "web"); cs.Ready || condition(st, "Ready") != "False" {
		t.Fatalf("ready %v / condition %s before the probe passed", cs.Ready, condition(st, "Ready"))
	}
	st = syncUntil(t, r, pod, netns, "ready", func(st api.PodStatus) bool { return condition(st, "Ready") == "True" })
	if condition(st, "ContainersReady") != "True" {
		t.Errorf("ContainersReady %s", condition(st, "ContainersReady"))
	}
	st = syncUntil(t, r, pod, netns, "not ready again", func(st api.PodStatus) bool { return condition(st, "Ready") == "False" })
	if cs := containerStatusOf(t, st, "web"); cs.RestartCount != 0 || cs.State.Running == nil {
		t.Errorf("a readiness failure restarted the container: %+v", cs)
	}
}

func TestStartupProbeHoldsReadinessUntilItPasses(t *testing.T) {
	r := newTestRuntime(t)
	netns := newNetns(t)
	c := shell("slow", imageV1, "sleep 2; mkdir -p /www; exec httpd -f -p 9000 -h /www")
	c.StartupProbe = fastProbe(api.ProbeHandler{TCPSocket: &api.TCPSocketAction{Port: api.FromInt(9000)}})
	c.StartupProbe.FailureThreshold = 30
	c.ReadinessProbe = fastProbe(api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"true"}}})
	pod := newPod(t, "startup", api.RestartAlways, c)
	pod.Status.PodIP = "127.0.0.1"
	syncUntil(t, r, pod, netns, "running", func(st api.PodStatus) bool { return running(st, "slow") })
	// The readiness probe would pass at once; the startup probe holds it.
	time.Sleep(1200 * time.Millisecond) // one readiness period: it must not have run
	st, err := r.PodStatus(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	if cs := containerStatusOf(t, st, "slow"); cs.Ready || *cs.Started {
		t.Fatalf("ready %v started %v while the startup probe has not passed", cs.Ready, *cs.Started)
	}
	st = syncUntil(t, r, pod, netns, "started and ready", func(st api.PodStatus) bool {
		cs := st.ContainerStatuses[0]
		return cs.Ready && cs.Started != nil && *cs.Started
	})
	if cs := containerStatusOf(t, st, "slow"); cs.RestartCount != 0 {
		t.Errorf("restarted %d times", cs.RestartCount)
	}
}

func TestProbersStopWhenThePodIsRemoved(t *testing.T) {
	r := newTestRuntime(t)
	c := shell("main", imageV1, "exec sleep 1000")
	c.ReadinessProbe = fastProbe(api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"true"}}})
	pod := newPod(t, "stopprobes", api.RestartAlways, c)
	syncUntil(t, r, pod, "", "ready", func(st api.PodStatus) bool { return condition(st, "Ready") == "True" })
	r.probes.mu.Lock()
	p := r.probes.probers[string(pod.ObjectMeta.UID)]["main"]
	r.probes.mu.Unlock()
	if p == nil {
		t.Fatal("no prober for a running container with a probe")
	}
	if err := r.RemovePod(context.Background(), string(pod.ObjectMeta.UID)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	default:
		t.Fatal("prober still running after RemovePod returned")
	}
	if _, ok := r.probes.result(string(pod.ObjectMeta.UID), "main", p.runID); ok {
		t.Error("results of a removed pod are still kept")
	}
}

func TestProbeThresholds(t *testing.T) {
	r := &Runtime{events: discardEvents{}, log: slog.New(slog.DiscardHandler)}
	target := probeTarget{pod: &api.Pod{}, container: api.Container{Name: "c"}}
	probe := &api.Probe{SuccessThreshold: 2, FailureThreshold: 3}

	p := &prober{}
	s := &probeState{kind: probeReadiness, probe: probe}
	r.record(p, s, true, "", target)
	if p.ready {
		t.Fatal("ready after one success with successThreshold 2")
	}
	r.record(p, s, true, "", target)
	if !p.ready {
		t.Fatal("not ready after two successes")
	}
	for i := 0; i < 2; i++ {
		if r.record(p, s, false, "x", target) || !p.ready {
			t.Fatalf("failure %d of 3 changed readiness", i+1)
		}
	}
	if r.record(p, s, false, "x", target) || p.ready {
		t.Fatal("readiness kept after failureThreshold failures, or the prober stopped")
	}

	live := &probeState{kind: probeLiveness, probe: &api.Probe{SuccessThreshold: 1, FailureThreshold: 2}}
	if r.record(p, live, false, "x", target) || p.kill != "" {
		t.Fatal("liveness killed before failureThreshold")
	}
	r.record(p, live, true, "", target) // a success resets the count
	r.record(p, live, false, "x", target)
	if p.kill != "" {
		t.Fatal("failures that were not consecutive killed the container")
	}
	if !r.record(p, live, false, "x", target) || p.kill == "" {
		t.Fatal("liveness did not ask for a restart after failureThreshold consecutive failures")
	}
}

func TestProbeManagerReplacesProberOfEarlierRun(t *testing.T) {
	m := newProbeManager()
	started := make(chan string, 2)
	run := func(id string) func(context.Context, *prober) {
		return func(ctx context.Context, p *prober) { started <- id; <-ctx.Done() }
	}
	m.ensure("u", "c", "run1", run("run1"))
	m.ensure("u", "c", "run1", run("again")) // same run: kept
	<-started
	m.mu.Lock()
	first := m.probers["u"]["c"]
	m.mu.Unlock()
	m.ensure("u", "c", "run2", run("run2"))
	if got := <-started; got != "run2" {
		t.Fatalf("started %s, want run2", got)
	}
	select {
	case <-first.done:
	case <-time.After(10 * time.Second):
		t.Fatal("prober of the earlier run kept running")
	}
	m.stopAll()
	if len(m.probers) != 0 {
		t.Fatal("stopAll left probers")
	}
}

func TestAdoptingRuntimeKeepsReadinessAndInitDone(t *testing.T) {
	r := newTestRuntime(t)
	c := shell("main", imageV1, "exec sleep 1000")
	// A readiness probe that would take an hour to pass again: the new
	// runtime can only report Ready from what the old one proved.
	c.ReadinessProbe = fastProbe(api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"sh", "-c", "test ! -e /tmp/once && touch /tmp/once"}}})
	c.ReadinessProbe.FailureThreshold = 60 // its failures must not decide within the test
	pod := newPod(t, "adoptready", api.RestartAlways, c)
	pod.Spec.InitContainers = []api.Container{shell("init", imageV1, "true")}
	syncUntil(t, r, pod, "", "ready", func(st api.PodStatus) bool { return condition(st, "Ready") == "True" })
	// The prober writes what it proved after it changed; wait for it.
	ctx := r.withNS(context.Background())
	cont, err := r.client.LoadContainer(ctx, containerID(string(pod.ObjectMeta.UID), "main"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		labels, err := cont.Labels(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(labels[labelProbeState], "|1|1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("probe state never remembered: %q", labels[labelProbeState])
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.probes.stopAll() // the old agent is gone

	again, err := New(context.Background(), Config{
		Address: testContainerd.address, Namespace: testNamespace, StateDir: r.stateDir,
		Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if err := again.SyncPod(context.Background(), pod, ""); err != nil {
		t.Fatal(err)
	}
	st, err := again.PodStatus(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	if condition(st, "Ready") != "True" || condition(st, "Initialized") != "True" {
		t.Fatalf("after adoption Ready %s Initialized %s, want both True", condition(st, "Ready"), condition(st, "Initialized"))
	}
	if cs := containerStatusOf(t, st, "main"); cs.RestartCount != 0 || st.InitContainerStatuses[0].RestartCount != 0 {
		t.Errorf("adoption restarted something: %+v", st)
	}
}
