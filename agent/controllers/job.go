package controllers

import (
	"cmp"
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/placement"
)

// JobStore is the part of the state that holds Jobs; a State without it
// runs no job controller.
type JobStore interface {
	Jobs(filter func(*api.Job) bool) ([]*api.Job, uint64)
}

var _ JobStore = (*consensus.FSM)(nil)

// jobResync bounds how late a deadline, a back-off or a TTL is noticed
// when nothing else changes.
const jobResync = time.Second

// Back-off between the pods of a Job that failed, as Kubernetes' job
// controller: 10 s after the first failure, doubling, at most 6 minutes.
const (
	jobBackoffBase = 10 * time.Second
	jobBackoffMax  = 6 * time.Minute
)

// Reasons and messages of a Job's conditions, Kubernetes' own words
// (clients match on the reasons).
const (
	reasonCompletionsReached   = "CompletionsReached"
	reasonBackoffLimitExceeded = "BackoffLimitExceeded"
	reasonDeadlineExceeded     = "DeadlineExceeded"
	messageCompletionsReached  = "Reached expected number of succeeded pods"
	messageBackoffLimit        = "Job has reached the specified backoff limit"
	messageDeadline            = "Job was active longer than specified deadline"
)

// jobController runs every Job while this server leads: it keeps
// min(parallelism, completions - succeeded) pods of the template active,
// counts the pods that finished, fails the Job past its backoffLimit or
// activeDeadlineSeconds (removing its active pods), completes it once
// enough pods succeeded, and deletes it with its pods once
// ttlSecondsAfterFinished has passed. Pods of a lost node are deleted by
// the node lifecycle loop; the Job then makes new ones.
func (l *Leader) jobController(ctx context.Context) {
	js, _ := l.state.(JobStore)
	if js == nil {
		return
	}
	l.onEachChange(ctx, jobResync, func() {
		// Read through the filter, which sees the stored Jobs: a settled
		// one is not even copied.
		jobs, _ := js.Jobs(func(j *api.Job) bool { return !settled(j) })
		if len(jobs) == 0 {
			return
		}
		notReady := l.notReadyNodes()
		for _, j := range jobs {
			if err := l.syncJob(ctx, j, notReady, time.Now().UTC()); err != nil && ctx.Err() == nil {
				l.log.Warn("job", "name", api.KeyOf(j), "err", err)
			}
		}
	})
}

// settled tells a Job that no pass can change: finished, with no active
// pod counted and no TTL to wait for. Finished Jobs stay until someone
// deletes them, so a pass skips them rather than read the pods of each
// at every state index.
func settled(j *api.Job) bool {
	_, done := api.JobFinished(j)
	return done && j.Status.Active == 0 && j.Spec.TTLSecondsAfterFinished == nil
}

func (l *Leader) notReadyNodes() map[string]bool {
	nodes, _ := l.state.Nodes()
	notReady := map[string]bool{}
	for _, n := range nodes {
		if !placement.NodeReady(n) {
			notReady[n.ObjectMeta.Name] = true
		}
	}
	return notReady
}

// addJobUIDs adds the UID of every Job to known, so that the replication
// controller never takes a Job's pod for an orphan to adopt.
func (l *Leader) addJobUIDs(known map[string]bool) {
	js, _ := l.state.(JobStore)
	if js == nil {
		return
	}
	jobs, _ := js.Jobs(nil)
	for _, j := range jobs {
		known[string(j.UID)] = true
	}
}

// jobPlan is what one pass decided for one Job: pure, so that it is
// tested without Raft.
type jobPlan struct {
	create    int
	remove    []*api.Pod // active pods to delete: surplus, or all once the Job failed
	status    api.JobStatus
	deleteJob bool // ttlSecondsAfterFinished has passed
}

// planJob decides what to do for j given its pods (those whose
// controller reference is j), the nodes the fleet declared not ready, and
// the time.
func planJob(j *api.Job, pods []*api.Pod, notReady map[string]bool, now time.Time) jobPlan {
	var (
		plan                      jobPlan
		active, succeeded, failed []*api.Pod
	)
	for _, p := range pods {
		switch {
		case p.Status.Phase == api.PodSucceeded:
			succeeded = append(succeeded, p)
		case p.Status.Phase == api.PodFailed:
			failed = append(failed, p)
		case p.ObjectMeta.DeletionTimestamp == nil && countsLive(p, notReady):
			active = append(active, p)
		}
	}
	st := *j.Status.DeepCopy()
	// Finished pods stay in the state until the Job goes; one a user
	// deleted is still counted by the status.
	st.Succeeded = max(st.Succeeded, int32(len(succeeded)))
	st.Failed = max(st.Failed, int32(len(failed)))
	nowT := api.TimeOf(now)

	if cond, done := api.JobFinished(j); done {
		plan.remove = active
		plan.status = withActive(st, nil)
		if ttl := j.Spec.TTLSecondsAfterFinished; ttl != nil &&
			!now.Before(cond.LastTransitionTime.Add(time.Duration(*ttl)*time.Second)) {
			plan.deleteJob = true
		}
		return plan
	}
	if st.StartTime == nil {
		st.StartTime = &nowT
	}
	restarts := int32(0)
	if j.Spec.Template.Spec.RestartPolicy == api.RestartOnFailure {
		for _, p := range active {
			for _, cs := range p.Status.ContainerStatuses {
				restarts += cs.RestartCount
			}
			for _, cs := range p.Status.InitContainerStatuses {
				restarts += cs.RestartCount
			}
		}
	}
	fail := func(reason, message string) jobPlan {
		plan.remove = active
		st.Conditions = setJobCondition(st.Conditions, api.JobFailureTarget, reason, message, nowT)
		st.Conditions = setJobCondition(st.Conditions, api.JobFailed, reason, message, nowT)
		plan.status = withActive(st, nil)
		return plan
	}
	if limit := j.Spec.BackoffLimit; limit != nil && st.Failed+restarts > *limit {
		return fail(reasonBackoffLimitExceeded, messageBackoffLimit)
	}
	if ads := j.Spec.ActiveDeadlineSeconds; ads != nil && !now.Before(st.StartTime.Add(time.Duration(*ads)*time.Second)) {
		return fail(reasonDeadlineExceeded, messageDeadline)
	}
	parallelism := int32(1)
	if j.Spec.Parallelism != nil {
		parallelism = *j.Spec.Parallelism
	}
	complete := false
	want := parallelism
	if c := j.Spec.Completions; c != nil {
		complete = st.Succeeded >= *c
		want = min(parallelism, max(0, *c-st.Succeeded))
	} else if st.Succeeded > 0 {
		// A work queue: once one pod succeeded no new pod starts, and
		// the Job completes when the rest have finished.
		complete = len(active) == 0
		want = 0
	}
	if complete {
		st.Conditions = setJobCondition(st.Conditions, api.JobSuccessCriteriaMet, reasonCompletionsReached, messageCompletionsReached, nowT)
		st.Conditions = setJobCondition(st.Conditions, api.JobComplete, reasonCompletionsReached, messageCompletionsReached, nowT)
		st.CompletionTime = &nowT
		plan.remove = active
		plan.status = withActive(st, nil)
		return plan
	}
	switch n := int32(len(active)); {
	case n > want:
		surplus := append([]*api.Pod(nil), active...)
		sort.SliceStable(surplus, func(a, b int) bool { return deleteFirst(surplus[a], surplus[b]) })
		plan.remove = surplus[:n-want]
		active = surplus[n-want:]
	case n < want && !now.Before(nextJobPodAt(succeeded, failed)):
		plan.create = int(want - n)
	}
	st = withActive(st, active)
	st.Active += int32(plan.create)
	plan.status = st
	return plan
}

// withActive sets the counts of the Job's active pods and of the Ready
// ones among them.
func withActive(st api.JobStatus, active []*api.Pod) api.JobStatus {
	ready := int32(0)
	for _, p := range active {
		if podReady(p) {
			ready++
		}
	}
	st.Active, st.Ready = int32(len(active)), &ready
	return st
}

// nextJobPodAt is when the Job may start a new pod: its back-off after the
// failures since the last success, counted from the last of them.
func nextJobPodAt(succeeded, failed []*api.Pod) time.Time {
	var lastSuccess time.Time
	for _, p := range succeeded {
		if t := podFinishedAt(p); t.After(lastSuccess) {
			lastSuccess = t
		}
	}
	var (
		n           int
		lastFailure time.Time
	)
	for _, p := range failed {
		t := podFinishedAt(p)
		if !t.After(lastSuccess) {
			continue
		}
		n++
		if t.After(lastFailure) {
			lastFailure = t
		}
	}
	if n == 0 {
		return time.Time{}
	}
	return lastFailure.Add(jobBackoff(n))
}

// jobBackoff is the wait after n failures in a row.
func jobBackoff(n int) time.Duration {
	d := jobBackoffBase
	for i := 1; i < n && d < jobBackoffMax; i++ {
		d *= 2
	}
	return min(d, jobBackoffMax)
}

// podFinishedAt is when a finished pod's last container ended, or, when
// the node did not say, when its Ready condition last moved.
func podFinishedAt(p *api.Pod) time.Time {
	var t time.Time
	for _, cs := range append(append([]api.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if term := cs.State.Terminated; term != nil && term.FinishedAt.After(t) {
			t = term.FinishedAt.Time
		}
	}
	if t.IsZero() {
		if c := podCondition(p, "Ready"); c != nil {
			t = c.LastTransitionTime.Time
		}
	}
	if t.IsZero() {
		t = creationTime(p)
	}
	return t
}

// setJobCondition sets a True condition of typ, keeping its transition
// time when it already held.
func setJobCondition(conds []api.JobCondition, typ api.JobConditionType, reason, message string, now api.Time) []api.JobCondition {
	c := api.JobCondition{Type: typ, Status: "True", Reason: reason, Message: message, LastProbeTime: now, LastTransitionTime: now}
	for i := range conds {
		if conds[i].Type == typ {
			if conds[i].Status == "True" {
				c.LastTransitionTime = conds[i].LastTransitionTime
			}
			conds[i] = c
			return conds
		}
	}
	return append(conds, c)
}

func (l *Leader) syncJob(ctx context.Context, j *api.Job, notReady map[string]bool, now time.Time) error {
	pods, _ := l.state.Pods(func(p *api.Pod) bool {
		ref := api.ControllerOf(p)
		return ref != nil && ref.UID == j.UID && p.ObjectMeta.Namespace == j.Namespace
	})
	plan := planJob(j, pods, notReady, now)
	if plan.deleteJob {
		_, err := l.seat.Apply(ctx, consensus.DeleteJob{Namespace: j.Namespace, Name: j.Name, UID: j.UID})
		if err != nil && !consensus.IsNotFound(err) && !consensus.IsConflict(err) {
			return fmt.Errorf("delete finished job after its TTL: %w", err)
		}
		l.log.Info("deleted finished job after ttlSecondsAfterFinished", "job", api.KeyOf(j))
		return nil
	}
	for _, p := range plan.remove {
		_, err := l.seat.Apply(ctx, consensus.DeletePod{Namespace: p.ObjectMeta.Namespace, Name: p.ObjectMeta.Name, UID: p.ObjectMeta.UID})
		if err != nil && !consensus.IsNotFound(err) && !consensus.IsConflict(err) {
			return fmt.Errorf("delete active pod %s: %w", p.ObjectMeta.Name, err)
		}
		l.log.Info("deleted active pod of job", "job", api.KeyOf(j), "pod", p.ObjectMeta.Name)
	}
	var (
		mu        sync.Mutex
		createErr error
	)
	sideBySide(plan.create, leaderWrites, func(int) {
		p := api.JobPodFromTemplate(j)
		p.ObjectMeta.Name = j.Name + "-" + utilrand.String(5)
		_, err := l.seat.Apply(ctx, consensus.CreatePod{Pod: *p, UID: uuid.NewUUID(), Time: time.Now().UTC()})
		if consensus.IsAlreadyExists(err) {
			return // a clash of suffixes; the next pass makes it
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			createErr = cmp.Or(createErr, err)
			return
		}
		l.log.Info("created job pod", "job", api.KeyOf(j), "pod", p.ObjectMeta.Name)
	})
	if createErr != nil {
		return fmt.Errorf("create job pod: %w", createErr)
	}
	if equality.Semantic.DeepEqual(j.Status, plan.status) {
		return nil
	}
	_, err := l.seat.Apply(ctx, consensus.UpdateJobStatus{Namespace: j.Namespace, Name: j.Name, UID: j.UID, Status: plan.status})
	if consensus.IsNotFound(err) || consensus.IsConflict(err) {
		return nil // deleted or replaced meanwhile
	}
	return err
}
