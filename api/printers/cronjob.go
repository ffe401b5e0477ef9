package printers

import (
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api"
)

// CronJobColumns are kubectl's columns of a CronJob.
func CronJobColumns() []Column {
	return []Column{
		{"Name", "string", nameDesc, 0},
		{"Schedule", "string", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.", 0},
		{"Timezone", "string", "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.", 0},
		{"Suspend", "boolean", "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.", 0},
		{"Active", "integer", "A list of pointers to currently running jobs.", 0},
		{"Last Schedule", "string", "Information when was the last time the job was successfully scheduled.", 0},
		{"Age", "string", ageDesc, 0},
		{"Containers", "string", "Names of each container in the template.", 1},
		{"Images", "string", "Images referenced by each container in the template.", 1},
		{"Selector", "string", "Selector used for filtering pods.", 1},
	}
}

// CronJob is the row of cj under CronJobColumns, as Kubernetes'
// printCronJob makes it.
func CronJob(cj *api.CronJob, now time.Time) []any {
	last := "<none>"
	if t := cj.Status.LastScheduleTime; t != nil {
		last = Age(t.Time, now)
	}
	zone := "<none>"
	if cj.Spec.TimeZone != nil {
		zone = *cj.Spec.TimeZone
	}
	suspend := "<unset>"
	if s := cj.Spec.Suspend; s != nil {
		suspend = "False"
		if *s {
			suspend = "True"
		}
	}
	var names, images []string
	for _, c := range cj.Spec.JobTemplate.Spec.Template.Spec.Containers {
		names = append(names, c.Name)
		images = append(images, c.Image)
	}
	return []any{cj.Name, cj.Spec.Schedule, zone, suspend, int64(len(cj.Status.Active)), last, Age(cj.CreationTimestamp.Time, now),
		strings.Join(names, ","), strings.Join(images, ","), metav1.FormatLabelSelector(cj.Spec.JobTemplate.Spec.Selector)}
}
