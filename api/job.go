package api

import (
	"fmt"
	"reflect"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Jobs (batch/v1): a Job runs pods of its template to completion
// (agent/controllers/job.go); this file says what of it shoal supports,
// its defaults (Kubernetes' own) and its validation.

// Job and its parts, named here so callers need not import batch/v1.
type (
	Job              = batchv1.Job
	JobList          = batchv1.JobList
	JobSpec          = batchv1.JobSpec
	JobStatus        = batchv1.JobStatus
	JobCondition     = batchv1.JobCondition
	JobConditionType = batchv1.JobConditionType
	CompletionMode   = batchv1.CompletionMode
)

// KindJob is the kind of a Job; BatchV1 its apiVersion.
const (
	KindJob = "Job"
	BatchV1 = "batch/v1"
)

// Job conditions, and the labels Kubernetes' job controller puts on a
// Job's pods (the generated selector reads the first).
const (
	JobComplete           = batchv1.JobComplete
	JobFailed             = batchv1.JobFailed
	JobFailureTarget      = batchv1.JobFailureTarget
	JobSuccessCriteriaMet = batchv1.JobSuccessCriteriaMet
	NonIndexedCompletion  = batchv1.NonIndexedCompletion

	JobControllerUIDLabel       = batchv1.ControllerUidLabel // batch.kubernetes.io/controller-uid
	JobNameLabel                = batchv1.JobNameLabel       // batch.kubernetes.io/job-name
	LegacyJobControllerUIDLabel = "controller-uid"
	LegacyJobNameLabel          = "job-name"
)

// DefaultJobBackoffLimit is spec.backoffLimit when a Job leaves it out.
const DefaultJobBackoffLimit = 6

func defaultJob(j *Job) {
	j.APIVersion, j.Kind = BatchV1, KindJob
	if j.Namespace == "" {
		j.Namespace = DefaultNamespace
	}
	s := &j.Spec
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = ptrInt32(1)
	}
	if s.Parallelism == nil {
		s.Parallelism = ptrInt32(1)
	}
	if s.BackoffLimit == nil {
		s.BackoffLimit = ptrInt32(DefaultJobBackoffLimit)
	}
	if s.CompletionMode == nil {
		m := NonIndexedCompletion
		s.CompletionMode = &m
	}
	// A pod's restartPolicy defaults to Always, which a Job refuses:
	// left out, it stays out, and validation asks for it by name.
	restart := s.Template.Spec.RestartPolicy
	defaultTemplate(&s.Template, j.Namespace)
	s.Template.Spec.RestartPolicy = restart
}

func ptrInt32(v int32) *int32 { return &v }

// ManualJobSelector tells whether a Job brings its own selector
// (spec.manualSelector: true) instead of the generated one.
func ManualJobSelector(j *Job) bool {
	return j.Spec.ManualSelector != nil && *j.Spec.ManualSelector
}

// GenerateJobSelector gives a Job without a manual selector the selector
// and template labels Kubernetes generates from its UID: the selector
// matches batch.kubernetes.io/controller-uid, and the template carries it,
// the job name and their older unprefixed forms. A selector already set
// is left for validation to compare with the generated one.
func GenerateJobSelector(j *Job, uid UID) {
	if ManualJobSelector(j) {
		return
	}
	t := &j.Spec.Template
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	for k, v := range map[string]string{
		JobControllerUIDLabel: string(uid), LegacyJobControllerUIDLabel: string(uid),
		JobNameLabel: j.Name, LegacyJobNameLabel: j.Name,
	} {
		if _, ok := t.Labels[k]; !ok {
			t.Labels[k] = v
		}
	}
	if j.Spec.Selector == nil {
		j.Spec.Selector = &LabelSelector{MatchLabels: map[string]string{JobControllerUIDLabel: string(uid)}}
	}
}

// JobSelector is the label selector a Job's pods are counted with; an
// empty or missing selector selects nothing.
func JobSelector(j *Job) (labels.Selector, error) {
	if j.Spec.Selector == nil {
		return labels.Nothing(), nil
	}
	return SelectorOf(j.Spec.Selector)
}

// ValidateJob checks a defaulted Job. A Job without a manual selector may
// still lack its selector (the state machine generates it from the UID
// before it checks again, with the UID: ValidateJobSelector).
func ValidateJob(j *Job) error {
	errs := validateReplicatedMeta(&j.ObjectMeta, nil)
	s := &j.Spec
	nonNegative := func(path string, v *int32) {
		if v != nil && *v < 0 {
			errs = append(errs, &FieldError{Path: path, Value: fmt.Sprint(*v), Detail: "must be greater than or equal to 0"})
		}
	}
	nonNegative("spec.parallelism", s.Parallelism)
	nonNegative("spec.completions", s.Completions)
	nonNegative("spec.backoffLimit", s.BackoffLimit)
	nonNegative("spec.ttlSecondsAfterFinished", s.TTLSecondsAfterFinished)
	if s.ActiveDeadlineSeconds != nil && *s.ActiveDeadlineSeconds <= 0 {
		errs = append(errs, &FieldError{Path: "spec.activeDeadlineSeconds", Value: fmt.Sprint(*s.ActiveDeadlineSeconds), Detail: "must be greater than 0"})
	}
	if m := s.CompletionMode; m != nil && *m != NonIndexedCompletion {
		errs = append(errs, &FieldError{Path: "spec.completionMode", Value: string(*m),
			Detail: "shoal supports NonIndexed only (Indexed is not supported)"})
	}
	if ManualJobSelector(j) && s.Selector == nil {
		errs = append(errs, &FieldError{Path: "spec.selector", Detail: "required when spec.manualSelector is true"})
	}
	if s.Selector != nil {
		errs = append(errs, validateLabels("spec.selector.matchLabels", s.Selector.MatchLabels)...)
		if _, err := SelectorOf(s.Selector); err != nil {
			errs = append(errs, &FieldError{Path: "spec.selector", Detail: err.Error()})
		}
	}
	t := &s.Template
	if reflect.ValueOf(*t).IsZero() {
		return append(errs, &FieldError{Path: "spec.template", Detail: "required"}).orNil()
	}
	errs = append(errs, validateLabels("spec.template.metadata.labels", t.Labels)...)
	spec := t.Spec
	spec.RestartPolicy = RestartNever // judged below, in a Job's terms
	errs = append(errs, validatePodSpec("spec.template.spec", &spec)...)
	switch t.Spec.RestartPolicy {
	case RestartNever, RestartOnFailure:
	case "":
		errs = append(errs, &FieldError{Path: "spec.template.spec.restartPolicy",
			Detail: `required: supported values: "OnFailure", "Never"`})
	default:
		errs = append(errs, &FieldError{Path: "spec.template.spec.restartPolicy", Value: string(t.Spec.RestartPolicy),
			Detail: `supported values: "OnFailure", "Never": a Job's pods run to completion`})
	}
	if t.Name != "" {
		errs = append(errs, &FieldError{Path: "spec.template.metadata.name", Value: t.Name,
			Detail: "must be empty: the controller names its pods <name>-<random>"})
	}
	if sel, err := JobSelector(j); err == nil && s.Selector != nil {
		if reqs, ok := sel.Requirements(); ok && len(reqs) > 0 && !sel.Matches(labels.Set(t.Labels)) {
			errs = append(errs, &FieldError{Path: "spec.template.metadata.labels", Value: labels.Set(t.Labels).String(),
				Detail: "`selector` does not match template `labels` (" + sel.String() + ")"})
		}
	}
	return errs.orNil()
}

// ValidateJobSelector checks, once the UID is known, that a Job without
// a manual selector has the one generated from it.
func ValidateJobSelector(j *Job, uid UID) error {
	if ManualJobSelector(j) {
		return nil
	}
	want := &LabelSelector{MatchLabels: map[string]string{JobControllerUIDLabel: string(uid)}}
	if !reflect.DeepEqual(j.Spec.Selector, want) {
		sel := "<nil>"
		if j.Spec.Selector != nil {
			if s, err := SelectorOf(j.Spec.Selector); err == nil {
				sel = s.String()
			}
		}
		return FieldErrors{{Path: "spec.selector", Value: sel,
			Detail: "`selector` not auto-generated: set spec.manualSelector: true to choose it, or leave it out"}}
	}
	return nil
}

// JobPodFromTemplate makes a new pod of the Job's template, owned by it;
// the caller names it.
func JobPodFromTemplate(j *Job) *Pod {
	t := &j.Spec.Template
	p := &Pod{TypeMeta: TypeMeta{APIVersion: V1, Kind: KindPod}}
	p.Namespace = j.Namespace
	p.Labels = copyMap(t.Labels)
	p.Annotations = copyMap(t.Annotations)
	p.OwnerReferences = []OwnerReference{NewControllerRef(j)}
	p.Spec = *t.Spec.DeepCopy()
	return p
}

// JobConditionOf returns the Job's condition of type typ, or nil.
func JobConditionOf(j *Job, typ JobConditionType) *JobCondition {
	for i := range j.Status.Conditions {
		if j.Status.Conditions[i].Type == typ {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

// JobFinished tells whether the Job has completed or failed for good,
// and the condition that says so.
func JobFinished(j *Job) (*JobCondition, bool) {
	for _, typ := range []JobConditionType{JobComplete, JobFailed} {
		if c := JobConditionOf(j, typ); c != nil && c.Status == "True" {
			return c, true
		}
	}
	return nil, false
}
