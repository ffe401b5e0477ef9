package printers

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/shoal-dev/shoal/api"
)

// JobColumns are kubectl's columns of a Job.
func JobColumns() []Column {
	return []Column{
		{"Name", "string", nameDesc, 0},
		{"Status", "string", "Status of the job.", 0},
		{"Completions", "string", "The completion status of the job.", 0},
		{"Duration", "string", "Time required to complete the job.", 0},
		{"Age", "string", ageDesc, 0},
		{"Containers", "string", "Names of each container in the template.", 1},
		{"Images", "string", "Images referenced by each container in the template.", 1},
		{"Selector", "string", "Selector used for filtering pods.", 1},
	}
}

// Job is the row of j under JobColumns, as Kubernetes' printJob makes it.
func Job(j *api.Job, now time.Time) []any {
	var completions string
	switch {
	case j.Spec.Completions != nil:
		completions = fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	case j.Spec.Parallelism != nil && *j.Spec.Parallelism > 1:
		completions = fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, *j.Spec.Parallelism)
	default:
		completions = fmt.Sprintf("%d/1", j.Status.Succeeded)
	}
	var took string
	switch st := j.Status; {
	case st.StartTime == nil:
	case st.CompletionTime == nil:
		took = duration.HumanDuration(now.Sub(st.StartTime.Time))
	default:
		took = duration.HumanDuration(st.CompletionTime.Sub(st.StartTime.Time))
	}
	var names, images []string
	for _, c := range j.Spec.Template.Spec.Containers {
		names = append(names, c.Name)
		images = append(images, c.Image)
	}
	sel := "<none>"
	if j.Spec.Selector != nil {
		if s, err := api.SelectorOf(j.Spec.Selector); err == nil {
			sel = OrNone(s.String())
		}
	}
	return []any{j.Name, jobStatus(j), completions, took, Age(j.CreationTimestamp.Time, now),
		strings.Join(names, ","), strings.Join(images, ","), sel}
}

func jobStatus(j *api.Job) string {
	has := func(typ api.JobConditionType) bool {
		c := api.JobConditionOf(j, typ)
		return c != nil && c.Status == "True"
	}
	switch {
	case has(api.JobComplete):
		return "Complete"
	case has(api.JobFailed):
		return "Failed"
	case j.DeletionTimestamp != nil:
		return "Terminating"
	case has(api.JobFailureTarget):
		return "FailureTarget"
	case has(api.JobSuccessCriteriaMet):
		return "SuccessCriteriaMet"
	}
	return "Running"
}
