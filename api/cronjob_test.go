package api

import (
	"strings"
	"testing"
)

func cronJobDoc(spec string) string {
	return "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: tick}\nspec: " + spec + "\n"
}

func TestCronJobGetsKubernetesDefaults(t *testing.T) {
	cj := &CronJob{}
	if err := DecodeObject([]byte(cronJobDoc(`{schedule: "*/5 * * * *", jobTemplate: {spec: {template: {spec: {restartPolicy: OnFailure, containers: [{name: c, image: busybox}]}}}}}`)), cj); err != nil {
		t.Fatal(err)
	}
	s := cj.Spec
	if s.ConcurrencyPolicy != AllowConcurrent || *s.Suspend || *s.SuccessfulJobsHistoryLimit != 3 || *s.FailedJobsHistoryLimit != 1 {
		t.Fatalf("defaulted spec %+v", s)
	}
	cj.UID = "u"
	j := CronJobJob(cj)
	if ref := ControllerOfMeta(&j.ObjectMeta); ref == nil || ref.Kind != KindCronJob || j.Spec.Template.Spec.RestartPolicy != RestartOnFailure {
		t.Fatalf("job of the template: %+v", j)
	}
}

func TestBadCronJobsAreRefusedByField(t *testing.T) {
	const tmpl = `jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}}`
	for _, c := range []struct{ name, spec, want string }{
		{"no schedule", `{` + tmpl + `}`, "spec.schedule: required"},
		{"bad schedule", `{schedule: "61 * * * *", ` + tmpl + `}`, "spec.schedule"},
		{"tz in schedule", `{schedule: "CRON_TZ=Europe/Paris 0 * * * *", ` + tmpl + `}`, "spec.schedule"},
		{"time zone", `{schedule: "@hourly", timeZone: Europe/Paris, ` + tmpl + `}`, "spec.timeZone: not supported"},
		{"policy", `{schedule: "@hourly", concurrencyPolicy: Sometimes, ` + tmpl + `}`, "spec.concurrencyPolicy"},
		{"restart always", `{schedule: "@hourly", jobTemplate: {spec: {template: {spec: {restartPolicy: Always, containers: [{name: c, image: busybox}]}}}}}`,
			"spec.jobTemplate.spec.template.spec.restartPolicy"},
	} {
		err := DecodeObject([]byte(cronJobDoc(c.spec)), &CronJob{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}
