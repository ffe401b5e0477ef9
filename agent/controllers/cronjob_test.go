package controllers

import (
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

func testCronJob(policy api.ConcurrencyPolicy) *api.CronJob {
	cj := &api.CronJob{ObjectMeta: api.ObjectMeta{Name: "tick", Namespace: "default"},
		Spec: api.CronJobSpec{Schedule: "*/1 * * * *", ConcurrencyPolicy: policy,
			JobTemplate: api.JobTemplateSpec{Spec: testJob("x", 1, 1, 6).Spec}}}
	cj.APIVersion, cj.Kind = api.BatchV1, api.KindCronJob
	return cj
}

func (r *jobRig) cronPass() {
	r.t.Helper()
	cj, err := r.s.FSM.CronJob("default", "tick")
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.l.syncCronJob(r.ctx, r.s.FSM, cj, r.now); err != nil {
		r.t.Fatalf("cronjob pass: %v", err)
	}
}

func (r *jobRig) cronJobs() []*api.Job {
	jobs, _ := r.s.FSM.Jobs(func(j *api.Job) bool { return api.ControllerOfMeta(&j.ObjectMeta) != nil })
	return jobs
}

// complete marks a Job finished as its controller would.
func (r *jobRig) complete(j *api.Job, typ api.JobConditionType) {
	r.t.Helper()
	at := metav1.NewTime(r.now)
	st := api.JobStatus{StartTime: &at, Conditions: []api.JobCondition{{Type: typ, Status: "True", LastTransitionTime: at}}}
	if typ == api.JobComplete {
		st.CompletionTime = &at
	}
	apply(r.t, r.s, consensus.UpdateJobStatus{Namespace: j.Namespace, Name: j.Name, UID: j.UID, Status: st})
}

func TestCronJobMakesOneJobPerScheduledMinute(t *testing.T) {
	r := newJobRig(t)
	r.now = time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)
	apply(t, r.s, consensus.ApplyCronJob{CronJob: *testCronJob(api.AllowConcurrent), Create: true, UID: "uid-cj", Time: r.now})
	r.cronPass()
	if n := len(r.cronJobs()); n != 0 {
		t.Fatalf("%d jobs before the first scheduled minute", n)
	}
	r.now = r.now.Add(31 * time.Second) // 10:01:01
	r.cronPass()
	r.cronPass()
	jobs := r.cronJobs()
	if len(jobs) != 1 || jobs[0].Name != "tick-"+itoa(time.Date(2026, 3, 1, 10, 1, 0, 0, time.UTC).Unix()/60) ||
		jobs[0].Annotations[api.CronJobScheduledTimestampAnnotation] != "2026-03-01T10:01:00Z" || jobs[0].Spec.Selector == nil {
		t.Fatalf("jobs after 10:01: %+v", jobs)
	}
	cj, _ := r.s.FSM.CronJob("default", "tick")
	if len(cj.Status.Active) != 1 || cj.Status.Active[0].UID != jobs[0].UID || !cj.Status.LastScheduleTime.Time.Equal(time.Date(2026, 3, 1, 10, 1, 0, 0, time.UTC)) {
		t.Fatalf("status %+v", cj.Status)
	}
	// Allow: the next minute runs beside the first.
	r.now = r.now.Add(time.Minute)
	r.cronPass()
	if n := len(r.cronJobs()); n != 2 {
		t.Fatalf("%d jobs after 10:02 under Allow, want 2", n)
	}
}

func TestCronJobForbidWaitsAndReplaceDeletesTheRunningJob(t *testing.T) {
	for _, policy := range []api.ConcurrencyPolicy{api.ForbidConcurrent, api.ReplaceConcurrent} {
		r := newJobRig(t)
		r.now = time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)
		apply(t, r.s, consensus.ApplyCronJob{CronJob: *testCronJob(policy), Create: true, UID: "uid-cj", Time: r.now})
		r.now = r.now.Add(time.Minute)
		r.cronPass()
		first := r.cronJobs()
		r.now = r.now.Add(time.Minute)
		r.cronPass()
		jobs := r.cronJobs()
		switch policy {
		case api.ForbidConcurrent:
			if len(jobs) != 1 || jobs[0].Name != first[0].Name {
				t.Fatalf("Forbid with a running job: %d jobs", len(jobs))
			}
			// Once it ends, the time still due runs.
			r.complete(jobs[0], api.JobComplete)
			r.cronPass()
			if n := len(r.cronJobs()); n != 2 {
				t.Fatalf("Forbid after the running job ended: %d jobs, want 2", n)
			}
		case api.ReplaceConcurrent:
			if len(jobs) != 1 || jobs[0].Name == first[0].Name {
				t.Fatalf("Replace: jobs %v, want only a new one", jobs)
			}
		}
	}
}

func TestCronJobKeepsItsHistoryLimits(t *testing.T) {
	r := newJobRig(t)
	r.now = time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)
	cj := testCronJob(api.AllowConcurrent)
	one, two := int32(1), int32(2)
	cj.Spec.FailedJobsHistoryLimit, cj.Spec.SuccessfulJobsHistoryLimit = &one, &two
	apply(t, r.s, consensus.ApplyCronJob{CronJob: *cj, Create: true, UID: "uid-cj", Time: r.now})
	for i := 0; i < 5; i++ {
		r.now = r.now.Add(time.Minute)
		r.cronPass()
		for _, j := range r.cronJobs() {
			if _, done := api.JobFinished(j); !done {
				typ := api.JobComplete
				if i%2 == 1 {
					typ = api.JobFailed
				}
				r.complete(j, typ)
			}
		}
	}
	r.cronPass()
	var ok, failed int
	for _, j := range r.cronJobs() {
		if c, _ := api.JobFinished(j); c.Type == api.JobComplete {
			ok++
		} else {
			failed++
		}
	}
	if ok != 2 || failed != 1 {
		t.Fatalf("kept %d successful and %d failed jobs, want 2 and 1", ok, failed)
	}
	if cj, _ := r.s.FSM.CronJob("default", "tick"); cj.Status.LastSuccessfulTime == nil {
		t.Fatalf("no lastSuccessfulTime: %+v", cj.Status)
	}
}

func TestSuspendedOrLateCronJobMakesNoJob(t *testing.T) {
	created := time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)
	cj := testCronJob(api.AllowConcurrent)
	cj.UID, cj.CreationTimestamp = "u", metav1.NewTime(created)
	yes := true
	cj.Spec.Suspend = &yes
	if plan, err := planCronJob(cj, nil, created.Add(time.Hour)); err != nil || plan.create != nil {
		t.Fatalf("suspended: %+v, %v", plan, err)
	}
	cj.Spec.Suspend = nil
	cj.Spec.Schedule = "0 10 * * *" // 10:00 daily: next on 2 March
	deadline := int64(60)
	cj.Spec.StartingDeadlineSeconds = &deadline
	if plan, _ := planCronJob(cj, nil, time.Date(2026, 3, 2, 10, 0, 59, 0, time.UTC)); plan.create == nil {
		t.Fatal("within its starting deadline: no job")
	}
	if plan, _ := planCronJob(cj, nil, time.Date(2026, 3, 2, 10, 1, 1, 0, time.UTC)); plan.create != nil {
		t.Fatalf("past its starting deadline: job %s", plan.create.Name)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
