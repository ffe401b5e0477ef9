package printers

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api"
)

func TestJobRowShowsStatusCompletionsAndDurationLikeKubectl(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(-ago)); return &t }
	three, two := int32(3), int32(2)
	meta := api.ObjectMeta{Name: "pi", CreationTimestamp: *at(90 * time.Second)}
	spec := api.JobSpec{Completions: &three, Parallelism: &two,
		Selector: &api.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "u"}},
		Template: api.PodTemplateSpec{Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox"}}}}}
	for _, tc := range []struct {
		name   string
		spec   api.JobSpec
		status api.JobStatus
		want   []any
	}{
		{"running", spec, api.JobStatus{StartTime: at(80 * time.Second), Succeeded: 1, Active: 2},
			[]any{"pi", "Running", "1/3", "80s", "90s", "c", "busybox", "batch.kubernetes.io/controller-uid=u"}},
		{"complete", spec, api.JobStatus{StartTime: at(80 * time.Second), CompletionTime: at(70 * time.Second), Succeeded: 3,
			Conditions: []api.JobCondition{{Type: api.JobSuccessCriteriaMet, Status: "True"}, {Type: api.JobComplete, Status: "True"}}},
			[]any{"pi", "Complete", "3/3", "10s", "90s", "c", "busybox", "batch.kubernetes.io/controller-uid=u"}},
		{"failed work queue", api.JobSpec{Parallelism: &two}, api.JobStatus{
			Conditions: []api.JobCondition{{Type: api.JobFailureTarget, Status: "True"}, {Type: api.JobFailed, Status: "True"}}},
			[]any{"pi", "Failed", "0/1 of 2", "", "90s", "", "", "<none>"}},
	} {
		if got := Job(&api.Job{ObjectMeta: meta, Spec: tc.spec, Status: tc.status}, now); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: row %q, want %q", tc.name, got, tc.want)
		}
	}
	if n := len(JobColumns()); n != len(Job(&api.Job{}, now)) {
		t.Errorf("%d columns for %d cells", n, len(Job(&api.Job{}, now)))
	}
}

func TestCronJobRowShowsScheduleSuspendActiveAndLastScheduleLikeKubectl(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	created, last := metav1.NewTime(now.Add(-10*time.Minute)), metav1.NewTime(now.Add(-40*time.Second))
	no := false
	cj := &api.CronJob{ObjectMeta: api.ObjectMeta{Name: "tick", CreationTimestamp: created},
		Spec: api.CronJobSpec{Schedule: "*/1 * * * *", Suspend: &no, JobTemplate: api.JobTemplateSpec{Spec: api.JobSpec{
			Template: api.PodTemplateSpec{Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "busybox"}}}}}}},
		Status: api.CronJobStatus{LastScheduleTime: &last, Active: []api.ObjectReference{{Name: "tick-1"}}}}
	want := []any{"tick", "*/1 * * * *", "<none>", "False", int64(1), "40s", "10m", "c", "busybox", "<none>"}
	if got := CronJob(cj, now); !reflect.DeepEqual(got, want) {
		t.Errorf("row %q, want %q", got, want)
	}
	if len(CronJobColumns()) != len(want) {
		t.Errorf("%d columns for %d cells", len(CronJobColumns()), len(want))
	}
}
