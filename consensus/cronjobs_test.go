package consensus

import (
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func cronJob(name, schedule string) api.CronJob {
	return api.CronJob{ObjectMeta: api.ObjectMeta{Name: name}, Spec: api.CronJobSpec{Schedule: schedule,
		JobTemplate: api.JobTemplateSpec{Spec: job("x").Spec}}}
}

func TestCronJobsAreStoredSnapshottedAndDeletedWithTheirJobs(t *testing.T) {
	for _, orphan := range []bool{false, true} {
		h := newHarness(t)
		cj := h.mustResult(ApplyCronJob{CronJob: cronJob("tick", "*/5 * * * *"), Create: true, UID: "uid-c", Time: t0}).CronJob
		if cj.Spec.ConcurrencyPolicy != api.AllowConcurrent || cj.UID != "uid-c" {
			t.Fatalf("stored cronjob %+v", cj)
		}
		bad := cronJob("tick", "every minute")
		if _, err := h.do(ApplyCronJob{CronJob: bad, Time: t0}); !IsInvalid(err) {
			t.Fatalf("bad schedule: %v, want Invalid", err)
		}
		j := api.CronJobJob(cj)
		j.Name = "tick-1"
		made := h.mustResult(ApplyJob{Job: *j, Create: true, UID: "uid-j", Time: t0}).Job
		p := jobPod("tick-1-a", made)
		h.must(CreatePod{Pod: p, UID: "uid-p", Time: t0})
		h.must(UpdateCronJobStatus{Namespace: "default", Name: "tick", UID: "uid-c",
			Status: api.CronJobStatus{LastScheduleTime: ptr(api.TimeOf(t0))}})
		restored := snapshotRestored(t, h.f)
		if got, err := restored.CronJob("default", "tick"); err != nil || got.Status.LastScheduleTime == nil {
			t.Fatalf("restored cronjob %+v, %v", got, err)
		}

		h.must(DeleteCronJob{Namespace: "default", Name: "tick", Orphan: orphan})
		left, err := h.f.Job("default", "tick-1")
		switch {
		case orphan && (err != nil || api.ControllerOfMeta(&left.ObjectMeta) != nil):
			t.Fatalf("orphaned job %+v, %v: want kept without its controller", left, err)
		case !orphan && !IsNotFound(err):
			t.Fatalf("job after delete: %v, want NotFound", err)
		}
		if _, err := h.f.Pod("default", "tick-1-a"); orphan != (err == nil) {
			t.Fatalf("pod of the job after delete (orphan %v): %v", orphan, err)
		}
		j.Name = "tick-2"
		if _, err := h.do(ApplyJob{Job: *j, Create: true, UID: "uid-j2", Time: t0}); !IsConflict(err) {
			t.Fatalf("job for a deleted cronjob: %v, want Conflict", err)
		}
	}
}
