package consensus

import (
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func job(name string) api.Job {
	return api.Job{ObjectMeta: api.ObjectMeta{Name: name}, Spec: api.JobSpec{Template: api.PodTemplateSpec{
		Spec: api.PodSpec{RestartPolicy: api.RestartNever, Containers: []api.Container{{Name: "c", Image: "busybox"}}}}}}
}

func jobPod(name string, j *api.Job) api.Pod {
	p := api.JobPodFromTemplate(j)
	p.Name = name
	return *p
}

func TestJobsAreCreatedWithGeneratedSelectorsUpdatedAndSnapshotted(t *testing.T) {
	h := newHarness(t)
	sub, err := h.f.Changes().Subscribe(KindJob, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	res, err := h.do(ApplyJob{Job: job("j"), Create: true, UID: "uid-j", Time: t0})
	if err != nil || !res.Created {
		t.Fatalf("create: %+v, %v", res, err)
	}
	j := res.Job
	if j.Spec.Selector == nil || j.Spec.Selector.MatchLabels[api.JobControllerUIDLabel] != "uid-j" ||
		j.Spec.Template.Labels["job-name"] != "j" || *j.Spec.BackoffLimit != 6 || j.UID != "uid-j" {
		t.Fatalf("stored job %+v", j)
	}
	if c := <-sub.C; c.Kind != KindJob || c.Key != "default/j" || !strings.Contains(string(c.Object), `"apiVersion":"batch/v1"`) {
		t.Fatalf("change %+v %s", c, c.Object)
	}
	if _, err := h.do(ApplyJob{Job: job("j"), Create: true, UID: "uid-x", Time: t0}); !IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	// A replace of the same manifest (no selector) is no change; a new
	// parallelism is; a new template is refused by name.
	if res, err := h.do(ApplyJob{Job: job("j"), Time: t0}); err != nil || res.Changed {
		t.Fatalf("same again: %+v, %v", res, err)
	}
	more := job("j")
	more.Spec.Parallelism, more.Spec.Completions = ptr(int32(3)), ptr(int32(1))
	if res, err := h.do(ApplyJob{Job: more, Time: t0}); err != nil || !res.Changed || res.Job.Generation != 2 {
		t.Fatalf("parallelism: %+v, %v", res, err)
	}
	other := job("j")
	other.Spec.Template.Spec.Containers[0].Image = "other"
	if _, err := h.do(ApplyJob{Job: other, Time: t0}); !IsInvalid(err) || !strings.Contains(err.Error(), "spec.template") {
		t.Fatalf("template change: %v, want Invalid naming spec.template", err)
	}
	// A selector of one's own needs manualSelector.
	own := job("own")
	own.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"a": "b"}}
	own.Spec.Template.Labels = map[string]string{"a": "b"}
	if _, err := h.do(ApplyJob{Job: own, UID: "uid-o", Time: t0}); !IsInvalid(err) || !strings.Contains(err.Error(), "spec.selector") {
		t.Fatalf("own selector: %v, want Invalid naming spec.selector", err)
	}
	own.Spec.ManualSelector = ptr(true)
	h.must(ApplyJob{Job: own, UID: "uid-o", Time: t0})

	st := api.JobStatus{Active: 1, StartTime: ptr(api.TimeOf(t0))}
	if _, err := h.do(UpdateJobStatus{Namespace: "default", Name: "j", UID: "other", Status: st}); !IsConflict(err) {
		t.Fatalf("status with a wrong uid: %v", err)
	}
	h.must(UpdateJobStatus{Namespace: "default", Name: "j", UID: "uid-j", Status: st})

	restored := snapshotRestored(t, h.f)
	got, err := restored.Job("default", "j")
	if err != nil || got.Status.Active != 1 || *got.Spec.Parallelism != 3 {
		t.Fatalf("restored job %+v, %v", got, err)
	}
	if list, _ := restored.Jobs(nil); len(list) != 2 {
		t.Fatalf("restored %d jobs, want 2", len(list))
	}
}

func TestDeletingAJobTakesOrOrphansItsPods(t *testing.T) {
	for _, orphan := range []bool{false, true} {
		h := newHarness(t)
		j := h.mustResult(ApplyJob{Job: job("j"), Create: true, UID: "uid-j", Time: t0}).Job
		p := jobPod("j-1", j)
		h.must(CreatePod{Pod: p, UID: "uid-p", Time: t0})
		h.must(DeleteJob{Namespace: "default", Name: "j", Orphan: orphan})
		left, err := h.f.Pod("default", "j-1")
		switch {
		case orphan && (err != nil || api.ControllerOf(left) != nil):
			t.Fatalf("orphaned pod %+v, %v: want kept without its controller", left, err)
		case !orphan && !IsNotFound(err):
			t.Fatalf("pod after delete: %v, want NotFound", err)
		}
		// No pod is created for the Job once it is gone.
		p.Name = "j-2"
		if _, err := h.do(CreatePod{Pod: p, UID: "uid-p2", Time: t0}); !IsConflict(err) {
			t.Fatalf("pod for a deleted job: %v, want Conflict", err)
		}
	}
}

func ptr[T any](v T) *T { return &v }
