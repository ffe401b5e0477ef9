package controllers

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// CronJobStore is the part of the state that holds CronJobs and the Jobs
// they make; a State without it runs no cronjob controller.
type CronJobStore interface {
	JobStore
	CronJobs(filter func(*api.CronJob) bool) ([]*api.CronJob, uint64)
}

var _ CronJobStore = (*consensus.FSM)(nil)

// maxMissedSchedules bounds how many missed times one pass walks through
// (a minutely schedule after a week without a leader): only the most
// recent one runs, as in Kubernetes.
const maxMissedSchedules = 100000

// cronJobController runs every CronJob while this server leads: at each
// time of its schedule (UTC) it makes a Job of its template, named
// <cronjob>-<minutes since the epoch>, unless the CronJob is suspended,
// the time is older than startingDeadlineSeconds, or concurrencyPolicy
// Forbid finds a Job still running (Replace deletes the running ones
// first); it keeps successfulJobsHistoryLimit and failedJobsHistoryLimit
// finished Jobs and deletes older ones with their pods.
func (l *Leader) cronJobController(ctx context.Context) {
	cs, _ := l.state.(CronJobStore)
	if cs == nil {
		return
	}
	l.onEachChange(ctx, jobResync, func() {
		cjs, _ := cs.CronJobs(nil)
		for _, cj := range cjs {
			if err := l.syncCronJob(ctx, cs, cj, time.Now().UTC()); err != nil && ctx.Err() == nil {
				l.log.Warn("cronjob", "name", api.KeyOf(cj), "err", err)
			}
		}
	})
}

// cronPlan is what one pass decided for one CronJob: pure, so that it is
// tested without Raft.
type cronPlan struct {
	create *api.Job   // the Job to make now, named
	remove []*api.Job // replaced running Jobs and finished ones beyond the history limits
	status api.CronJobStatus
}

// planCronJob decides what to do for cj given its Jobs (those whose
// controller reference is cj) and the time.
func planCronJob(cj *api.CronJob, jobs []*api.Job, now time.Time) (cronPlan, error) {
	var (
		plan                          cronPlan
		active, succeeded, failedJobs []*api.Job
	)
	st := *cj.Status.DeepCopy()
	for _, j := range jobs {
		cond, done := api.JobFinished(j)
		switch {
		case !done:
			active = append(active, j)
		case cond.Type == api.JobComplete:
			succeeded = append(succeeded, j)
			if t := j.Status.CompletionTime; t != nil && (st.LastSuccessfulTime == nil || st.LastSuccessfulTime.Before(t)) {
				st.LastSuccessfulTime = t.DeepCopy()
			}
		default:
			failedJobs = append(failedJobs, j)
		}
	}
	plan.remove = append(plan.remove, beyondHistory(succeeded, cj.Spec.SuccessfulJobsHistoryLimit)...)
	plan.remove = append(plan.remove, beyondHistory(failedJobs, cj.Spec.FailedJobsHistoryLimit)...)
	plan.status = withActiveJobs(st, active)

	sched, err := api.CronSchedule(cj.Spec.Schedule)
	if err != nil {
		return plan, fmt.Errorf("schedule %q: %w", cj.Spec.Schedule, err)
	}
	if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
		return plan, nil
	}
	earliest := cj.CreationTimestamp.Time
	if t := st.LastScheduleTime; t != nil {
		earliest = t.Time
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil {
		if floor := now.Add(-time.Duration(*d) * time.Second); floor.After(earliest) {
			earliest = floor
		}
	}
	var due time.Time
	for t, n := sched.Next(earliest), 0; !t.After(now) && n < maxMissedSchedules; t, n = sched.Next(t), n+1 {
		due = t
	}
	if due.IsZero() {
		return plan, nil
	}
	if len(active) > 0 {
		switch cj.Spec.ConcurrencyPolicy {
		case api.ForbidConcurrent:
			return plan, nil // the time stays due until the running Job ends
		case api.ReplaceConcurrent:
			plan.remove = append(plan.remove, active...)
			active = nil
		}
	}
	name := cj.Name + "-" + strconv.FormatInt(due.Unix()/60, 10)
	made := false
	for _, j := range jobs {
		made = made || j.Name == name
	}
	if !made {
		j := api.CronJobJob(cj)
		j.Name = name
		if j.Annotations == nil {
			j.Annotations = map[string]string{}
		}
		j.Annotations[api.CronJobScheduledTimestampAnnotation] = due.Format(time.RFC3339)
		plan.create = j
		active = append(active, j)
	}
	dueT := api.TimeOf(due)
	st.LastScheduleTime = &dueT
	plan.status = withActiveJobs(st, active)
	return plan, nil
}

// beyondHistory are the oldest finished Jobs past limit.
func beyondHistory(finished []*api.Job, limit *int32) []*api.Job {
	if limit == nil || len(finished) <= int(*limit) {
		return nil
	}
	sorted := append([]*api.Job(nil), finished...)
	sort.SliceStable(sorted, func(a, b int) bool {
		ta, tb := jobStart(sorted[a]), jobStart(sorted[b])
		if !ta.Equal(tb) {
			return ta.Before(tb)
		}
		return sorted[a].Name < sorted[b].Name
	})
	return sorted[:len(sorted)-int(*limit)]
}

func jobStart(j *api.Job) time.Time {
	if t := j.Status.StartTime; t != nil {
		return t.Time
	}
	return j.CreationTimestamp.Time
}

// withActiveJobs lists the running Jobs in the status, by name. Their
// resourceVersion is left out, so that the status does not change with
// every change of a Job's.
func withActiveJobs(st api.CronJobStatus, active []*api.Job) api.CronJobStatus {
	st.Active = nil
	for _, j := range active {
		st.Active = append(st.Active, api.ObjectReference{APIVersion: api.BatchV1, Kind: api.KindJob,
			Namespace: j.Namespace, Name: j.Name, UID: j.UID})
	}
	sort.Slice(st.Active, func(a, b int) bool { return st.Active[a].Name < st.Active[b].Name })
	return st
}

func (l *Leader) syncCronJob(ctx context.Context, cs CronJobStore, cj *api.CronJob, now time.Time) error {
	jobs, _ := cs.Jobs(func(j *api.Job) bool {
		ref := api.ControllerOfMeta(&j.ObjectMeta)
		return ref != nil && ref.UID == cj.UID && j.Namespace == cj.Namespace
	})
	plan, err := planCronJob(cj, jobs, now)
	for _, j := range plan.remove {
		_, err := l.seat.Apply(ctx, consensus.DeleteJob{Namespace: j.Namespace, Name: j.Name, UID: j.UID})
		if err != nil && !consensus.IsNotFound(err) && !consensus.IsConflict(err) {
			return fmt.Errorf("delete job %s: %w", j.Name, err)
		}
		l.log.Info("deleted job of cronjob", "cronjob", api.KeyOf(cj), "job", j.Name)
	}
	if err != nil {
		return err
	}
	if j := plan.create; j != nil {
		uid := uuid.NewUUID()
		res, err := l.seat.Apply(ctx, consensus.ApplyJob{Job: *j, Create: true, UID: uid, Time: now})
		switch {
		case consensus.IsAlreadyExists(err):
			// Made before a lost status write: the time is done.
		case err != nil:
			return fmt.Errorf("create job %s: %w", j.Name, err)
		default:
			l.log.Info("created scheduled job", "cronjob", api.KeyOf(cj), "job", j.Name)
			for i := range plan.status.Active {
				if plan.status.Active[i].Name == j.Name {
					plan.status.Active[i].UID = res.Job.UID
				}
			}
		}
	}
	if equality.Semantic.DeepEqual(cj.Status, plan.status) {
		return nil
	}
	_, err = l.seat.Apply(ctx, consensus.UpdateCronJobStatus{Namespace: cj.Namespace, Name: cj.Name, UID: cj.UID, Status: plan.status})
	if consensus.IsNotFound(err) || consensus.IsConflict(err) {
		return nil
	}
	return err
}
