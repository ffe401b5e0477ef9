package api

import (
	"strings"
	"testing"
)

// What kubectl create job sends.
const kubectlJob = `{"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"pi","creationTimestamp":null},
"spec":{"template":{"metadata":{"creationTimestamp":null},"spec":{"containers":[{"name":"pi","image":"busybox",
"command":["sh","-c","echo done"],"resources":{}}],"restartPolicy":"Never"}}},"status":{}}`

func TestJobGetsKubernetesDefaults(t *testing.T) {
	j := &Job{}
	if err := DecodeObject([]byte(kubectlJob), j); err != nil {
		t.Fatal(err)
	}
	s := j.Spec
	if j.Namespace != "default" || *s.Completions != 1 || *s.Parallelism != 1 || *s.BackoffLimit != 6 ||
		*s.CompletionMode != NonIndexedCompletion || s.Selector != nil {
		t.Fatalf("defaulted spec %+v", s)
	}
	// A work queue (parallelism without completions) keeps completions unset.
	j = &Job{ObjectMeta: ObjectMeta{Name: "q"}, Spec: JobSpec{Parallelism: ptrInt32(3)}}
	defaultJob(j)
	if j.Spec.Completions != nil || *j.Spec.Parallelism != 3 {
		t.Fatalf("work queue defaults: %+v", j.Spec)
	}
}

func TestJobSelectorIsGeneratedFromTheUID(t *testing.T) {
	j := &Job{}
	if err := DecodeObject([]byte(kubectlJob), j); err != nil {
		t.Fatal(err)
	}
	GenerateJobSelector(j, "u-1")
	want := map[string]string{"batch.kubernetes.io/controller-uid": "u-1", "controller-uid": "u-1",
		"batch.kubernetes.io/job-name": "pi", "job-name": "pi"}
	for k, v := range want {
		if j.Spec.Template.Labels[k] != v {
			t.Errorf("template label %s = %q, want %q", k, j.Spec.Template.Labels[k], v)
		}
	}
	if err := ValidateJob(j); err != nil {
		t.Fatal(err)
	}
	if err := ValidateJobSelector(j, "u-1"); err != nil {
		t.Fatal(err)
	}
	if err := ValidateJobSelector(j, "u-2"); err == nil || !strings.Contains(err.Error(), "spec.selector") {
		t.Fatalf("selector of another UID: %v", err)
	}
	p := JobPodFromTemplate(j)
	if ref := ControllerOf(p); ref == nil || ref.Kind != "Job" || ref.APIVersion != "batch/v1" || p.Labels["job-name"] != "pi" {
		t.Fatalf("pod from template: %+v", p.ObjectMeta)
	}
}

func TestBadJobsAreRefusedByField(t *testing.T) {
	for _, c := range []struct{ name, spec, want string }{
		{"restart always", `{template: {spec: {restartPolicy: Always, containers: [{name: c, image: busybox}]}}}`, "spec.template.spec.restartPolicy"},
		{"restart unset", `{template: {spec: {containers: [{name: c, image: busybox}]}}}`, "spec.template.spec.restartPolicy"},
		{"indexed", `{completionMode: Indexed, template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}`, "spec.completionMode"},
		{"suspend", `{suspend: true, template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}`, "spec.suspend: not supported"},
		{"negative", `{backoffLimit: -1, template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}`, "spec.backoffLimit"},
		{"deadline", `{activeDeadlineSeconds: 0, template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}`, "spec.activeDeadlineSeconds"},
		{"manual without selector", `{manualSelector: true, template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}`, "spec.selector: required"},
		{"selector mismatch", `{manualSelector: true, selector: {matchLabels: {a: b}}, template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}`, "spec.template.metadata.labels"},
		{"no template", `{parallelism: 1}`, "spec.template"},
	} {
		doc := "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: " + c.spec + "\n"
		err := DecodeObject([]byte(doc), &Job{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}
