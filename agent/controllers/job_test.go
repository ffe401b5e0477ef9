package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// jobRig drives the real job controller on a one-seat cluster one pass at
// a time, at a clock the test moves, with node n1 standing in for the
// kubelet.
type jobRig struct {
	t   *testing.T
	l   *Leader
	s   *consensus.TestServer
	ctx context.Context
	now time.Time
}

func newJobRig(t *testing.T) *jobRig {
	t.Helper()
	l, s := testLeader(t, Config{Liveness: liveness.WithGrace(time.Second)}, Deps{Members: &fakeFleet{}})
	registerReady(t, s, Member{Name: "n1", Addr: "10.0.0.1", Pods: 1000, Memory: "1000Gi", CPU: "1000"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return &jobRig{t: t, l: l, s: s, ctx: ctx, now: time.Now().UTC().Truncate(time.Second)}
}

func testJob(name string, completions, parallelism, backoff int32) *api.Job {
	j := &api.Job{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"},
		Spec: api.JobSpec{Completions: &completions, Parallelism: &parallelism, BackoffLimit: &backoff,
			Template: api.PodTemplateSpec{Spec: api.PodSpec{RestartPolicy: api.RestartNever,
				Containers: []api.Container{{Name: "c", Image: "busybox"}}}}}}
	j.APIVersion, j.Kind = api.BatchV1, api.KindJob
	return j
}

func (r *jobRig) create(j *api.Job) {
	r.t.Helper()
	apply(r.t, r.s, consensus.ApplyJob{Job: *j, Create: true, UID: api.UID("uid-" + j.Name), Time: r.now})
}

func (r *jobRig) job(name string) *api.Job {
	r.t.Helper()
	j, err := r.s.FSM.Job("default", name)
	if err != nil {
		r.t.Fatal(err)
	}
	return j
}

// pass runs the job controller once for name at the rig's clock.
func (r *jobRig) pass(name string) {
	r.t.Helper()
	if err := r.l.syncJob(r.ctx, r.job(name), r.l.notReadyNodes(), r.now); err != nil {
		r.t.Fatalf("job pass: %v", err)
	}
}

// pods are the job's pods by phase; unbound pods are bound to n1 and
// reported Running first, as placement and the node would.
func (r *jobRig) pods(name string) map[api.PodPhase][]*api.Pod {
	r.t.Helper()
	j := r.job(name)
	pods, _ := r.s.FSM.Pods(func(p *api.Pod) bool {
		ref := api.ControllerOf(p)
		return ref != nil && ref.UID == j.UID
	})
	out := map[api.PodPhase][]*api.Pod{}
	for _, p := range pods {
		if !consensus.Bound(p) {
			ip, err := r.s.FSM.FreePodIP("n1")
			if err != nil {
				r.t.Fatal(err)
			}
			apply(r.t, r.s, consensus.BindPod{Namespace: p.Namespace, Name: p.Name, UID: p.UID, Node: "n1", PodIP: ip.String(), Time: r.now})
			setReady(r.t, r.s, p.Namespace, p.Name, true)
			p.Status.Phase = api.PodRunning
		}
		out[p.Status.Phase] = append(out[p.Status.Phase], p)
	}
	return out
}

// finish ends a pod's container with code at the rig's clock.
func (r *jobRig) finish(p *api.Pod, code int32) {
	r.t.Helper()
	phase := api.PodSucceeded
	if code != 0 {
		phase = api.PodFailed
	}
	at := metav1.NewTime(r.now)
	st := api.PodStatus{Phase: phase, ContainerStatuses: []api.ContainerStatus{{Name: "c",
		State: api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: code, FinishedAt: at}}}}}
	apply(r.t, r.s, consensus.UpdatePodStatus{Namespace: p.Namespace, Name: p.Name, UID: p.UID, Node: "n1", Status: st, Time: r.now})
}

func condition(j *api.Job, typ api.JobConditionType) string {
	if c := api.JobConditionOf(j, typ); c != nil && c.Status == "True" {
		return c.Reason
	}
	return ""
}

func TestJobKeepsParallelismActiveUntilCompletionsSucceed(t *testing.T) {
	r := newJobRig(t)
	r.create(testJob("pi", 3, 2, 6))
	r.pass("pi")
	running := r.pods("pi")[api.PodRunning]
	if len(running) != 2 {
		t.Fatalf("%d pods after the first pass, want parallelism 2", len(running))
	}
	if j := r.job("pi"); j.Status.Active != 2 || j.Status.StartTime == nil {
		t.Fatalf("status %+v", j.Status)
	}
	r.finish(running[0], 0)
	r.finish(running[1], 0)
	r.pass("pi")
	// Two of three done: only one more pod, not two.
	if ps := r.pods("pi"); len(ps[api.PodRunning]) != 1 || len(ps[api.PodSucceeded]) != 2 {
		t.Fatalf("after two successes: %d running, %d succeeded", len(ps[api.PodRunning]), len(ps[api.PodSucceeded]))
	}
	r.pass("pi") // a pass that changes nothing creates nothing
	ps := r.pods("pi")
	if len(ps[api.PodRunning]) != 1 {
		t.Fatalf("a second pass made %d running pods", len(ps[api.PodRunning]))
	}
	r.now = r.now.Add(5 * time.Second)
	r.finish(ps[api.PodRunning][0], 0)
	r.pass("pi")
	j := r.job("pi")
	if condition(j, api.JobComplete) != "CompletionsReached" || condition(j, api.JobSuccessCriteriaMet) == "" ||
		j.Status.Succeeded != 3 || j.Status.Active != 0 || j.Status.CompletionTime == nil {
		t.Fatalf("finished job status %+v", j.Status)
	}
}

func TestJobBacksOffAfterFailuresAndFailsPastItsLimit(t *testing.T) {
	r := newJobRig(t)
	r.create(testJob("bad", 1, 1, 1))
	r.pass("bad")
	r.finish(r.pods("bad")[api.PodRunning][0], 1)
	r.pass("bad")
	// The first failure waits 10 s before the next pod.
	if ps := r.pods("bad"); len(ps[api.PodRunning]) != 0 || len(ps[api.PodFailed]) != 1 {
		t.Fatalf("right after a failure: %d running, %d failed", len(ps[api.PodRunning]), len(ps[api.PodFailed]))
	}
	if j := r.job("bad"); j.Status.Failed != 1 || condition(j, api.JobFailed) != "" {
		t.Fatalf("after one failure of backoffLimit 1: %+v", j.Status)
	}
	r.now = r.now.Add(9 * time.Second)
	r.pass("bad")
	if n := len(r.pods("bad")[api.PodRunning]); n != 0 {
		t.Fatalf("%d pods 9 s after the failure, want the back-off to hold", n)
	}
	r.now = r.now.Add(time.Second)
	r.pass("bad")
	running := r.pods("bad")[api.PodRunning]
	if len(running) != 1 {
		t.Fatalf("%d pods once the back-off passed, want 1", len(running))
	}
	r.finish(running[0], 2)
	r.pass("bad")
	j := r.job("bad")
	if condition(j, api.JobFailed) != "BackoffLimitExceeded" || condition(j, api.JobFailureTarget) != "BackoffLimitExceeded" || j.Status.Failed != 2 {
		t.Fatalf("past the backoff limit: %+v", j.Status)
	}
	r.now = r.now.Add(time.Hour)
	r.pass("bad")
	if n := len(r.pods("bad")[api.PodRunning]); n != 0 {
		t.Fatalf("a failed job started %d pods", n)
	}
}

func TestJobBackoffDoublesUpToSixMinutes(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second, 6: 320 * time.Second, 7: 6 * time.Minute, 30: 6 * time.Minute} {
		if got := jobBackoff(n); got != want {
			t.Errorf("back-off after %d failures: %v, want %v", n, got, want)
		}
	}
}

func TestJobPastItsDeadlineLosesItsPodsAndFails(t *testing.T) {
	r := newJobRig(t)
	j := testJob("slow", 1, 2, 6)
	ads := int64(30)
	j.Spec.ActiveDeadlineSeconds = &ads
	r.create(j)
	r.pass("slow")
	if n := len(r.pods("slow")[api.PodRunning]); n != 1 {
		t.Fatalf("%d pods, want min(parallelism, completions) = 1", n)
	}
	r.now = r.now.Add(29 * time.Second)
	r.pass("slow")
	if j := r.job("slow"); condition(j, api.JobFailed) != "" {
		t.Fatalf("failed before its deadline: %+v", j.Status)
	}
	r.now = r.now.Add(time.Second)
	r.pass("slow")
	if j := r.job("slow"); condition(j, api.JobFailed) != "DeadlineExceeded" || j.Status.Active != 0 {
		t.Fatalf("past its deadline: %+v", j.Status)
	}
	if ps := r.pods("slow"); len(ps) != 0 {
		t.Fatalf("pods left after the deadline: %v", ps)
	}
}

func TestFinishedJobIsDeletedWithItsPodsAfterItsTTL(t *testing.T) {
	r := newJobRig(t)
	j := testJob("once", 1, 1, 6)
	ttl := int32(60)
	j.Spec.TTLSecondsAfterFinished = &ttl
	r.create(j)
	r.pass("once")
	r.finish(r.pods("once")[api.PodRunning][0], 0)
	r.pass("once")
	if condition(r.job("once"), api.JobComplete) == "" {
		t.Fatal("job did not complete")
	}
	r.now = r.now.Add(59 * time.Second)
	r.pass("once")
	r.now = r.now.Add(time.Second)
	r.pass("once")
	if _, err := r.s.FSM.Job("default", "once"); !consensus.IsNotFound(err) {
		t.Fatalf("job after its TTL: %v, want NotFound", err)
	}
	if pods, _ := r.s.FSM.Pods(nil); len(pods) != 0 {
		t.Fatalf("%d pods left after the TTL", len(pods))
	}
}

func TestJobReplacesPodsOfALostNodeAndCountsOnFailureRestarts(t *testing.T) {
	r := newJobRig(t)
	registerReady(t, r.s, Member{Name: "n2", Addr: "10.0.0.2", Pods: 1000, Memory: "1000Gi", CPU: "1000"})
	j := testJob("lost", 1, 1, 6)
	r.create(j)
	r.pass("lost")
	p := r.pods("lost")[api.PodRunning][0]
	// n1 is lost: its pods turn Unknown and no longer count as active.
	apply(t, r.s, consensus.SetNodeCondition{Name: "n1", Ready: false, Reason: "NodeStatusUnknown", Time: r.now})
	if got, _ := r.s.FSM.Pod("default", p.Name); got.Status.Phase != api.PodUnknown {
		t.Fatalf("pod of a lost node is %s, want Unknown", got.Status.Phase)
	}
	r.pass("lost")
	pods, _ := r.s.FSM.Pods(func(q *api.Pod) bool { return q.Name != p.Name && q.Status.Phase == api.PodPending })
	if len(pods) != 1 {
		t.Fatalf("%d replacements of the lost pod, want 1", len(pods))
	}

	// With restartPolicy OnFailure, container restarts count toward the limit.
	plan := planJob(&api.Job{ObjectMeta: api.ObjectMeta{UID: "u"}, Spec: api.JobSpec{BackoffLimit: ptrTo(int32(2)),
		Template: api.PodTemplateSpec{Spec: api.PodSpec{RestartPolicy: api.RestartOnFailure}}}},
		[]*api.Pod{{Status: api.PodStatus{Phase: api.PodRunning, ContainerStatuses: []api.ContainerStatus{{RestartCount: 3}}}}}, nil, r.now)
	if len(plan.status.Conditions) != 2 || plan.status.Conditions[1].Reason != reasonBackoffLimitExceeded || len(plan.remove) != 1 {
		t.Fatalf("3 restarts past backoffLimit 2: %+v", plan)
	}
}

func ptrTo[T any](v T) *T { return &v }

// The loop itself: woken by the state, it starts the Job's pod and
// completes the Job once the pod succeeded.
func TestJobLoopRunsAJobToCompletion(t *testing.T) {
	r := newJobRig(t)
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{})
	go func() { defer close(done); r.l.jobController(ctx) }()
	defer func() { cancel(); <-done }()
	r.create(testJob("loop", 1, 1, 6))
	var running []*api.Pod
	eventually(t, "the job's pod", func() bool {
		running = r.pods("loop")[api.PodRunning]
		return len(running) == 1
	})
	r.now = time.Now().UTC()
	r.finish(running[0], 0)
	eventually(t, "the job complete", func() bool { return condition(r.job("loop"), api.JobComplete) != "" })
}

// A Job's pod deleted gracefully (Terminating on its node) no longer
// counts as active: the replacement is made at once, as in Kubernetes.
func TestJobReplacesATerminatingPodAtOnce(t *testing.T) {
	r := newJobRig(t)
	r.create(testJob("term", 1, 1, 6))
	r.pass("term")
	p := r.pods("term")[api.PodRunning][0]
	apply(t, r.s, consensus.DeleteObject{Kind: consensus.KindPod, Namespace: "default", Name: p.Name, Graceful: true, Time: r.now})
	if got, err := r.s.FSM.Pod("default", p.Name); err != nil || !consensus.Terminating(got) {
		t.Fatalf("after a graceful delete: %v, %v; want the pod Terminating", got, err)
	}
	r.pass("term")
	pods, _ := r.s.FSM.Pods(func(q *api.Pod) bool { return q.Name != p.Name && !consensus.Terminating(q) })
	if len(pods) != 1 {
		t.Fatalf("%d replacements of the terminating pod, want 1", len(pods))
	}
}
