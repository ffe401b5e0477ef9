package api

import (
	"fmt"
	"strings"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
)

// CronJobs (batch/v1): a CronJob makes a Job of its template at each time
// of its schedule (agent/controllers/cronjob.go); this file says what of
// it shoal supports, its defaults (Kubernetes' own) and its validation.

// CronJob and its parts, named here so callers need not import batch/v1.
type (
	CronJob           = batchv1.CronJob
	CronJobList       = batchv1.CronJobList
	CronJobSpec       = batchv1.CronJobSpec
	CronJobStatus     = batchv1.CronJobStatus
	JobTemplateSpec   = batchv1.JobTemplateSpec
	ConcurrencyPolicy = batchv1.ConcurrencyPolicy
)

// KindCronJob is the kind of a CronJob.
const KindCronJob = "CronJob"

// Concurrency policies, and the annotation Kubernetes' cronjob controller
// puts on the Jobs it makes.
const (
	AllowConcurrent                     = batchv1.AllowConcurrent
	ForbidConcurrent                    = batchv1.ForbidConcurrent
	ReplaceConcurrent                   = batchv1.ReplaceConcurrent
	CronJobScheduledTimestampAnnotation = batchv1.CronJobScheduledTimestampAnnotation
)

// Defaults of a CronJob's history limits, as in Kubernetes.
const (
	DefaultSuccessfulJobsHistoryLimit = 3
	DefaultFailedJobsHistoryLimit     = 1
	// maxCronJobName leaves room for the 11-character suffix of the
	// Jobs it makes within a 63-character label value.
	maxCronJobName = 52
)

func defaultCronJob(cj *CronJob) {
	cj.APIVersion, cj.Kind = BatchV1, KindCronJob
	if cj.Namespace == "" {
		cj.Namespace = DefaultNamespace
	}
	s := &cj.Spec
	if s.ConcurrencyPolicy == "" {
		s.ConcurrencyPolicy = AllowConcurrent
	}
	if s.Suspend == nil {
		no := false
		s.Suspend = &no
	}
	if s.SuccessfulJobsHistoryLimit == nil {
		s.SuccessfulJobsHistoryLimit = ptrInt32(DefaultSuccessfulJobsHistoryLimit)
	}
	if s.FailedJobsHistoryLimit == nil {
		s.FailedJobsHistoryLimit = ptrInt32(DefaultFailedJobsHistoryLimit)
	}
	t := &s.JobTemplate.Spec.Template
	restart := t.Spec.RestartPolicy
	defaultTemplate(t, cj.Namespace)
	t.Spec.RestartPolicy = restart
}

// CronSchedule parses a CronJob's schedule: five fields or a descriptor
// such as @hourly, as Kubernetes reads it (robfig/cron's standard parser).
func CronSchedule(spec string) (cron.Schedule, error) {
	if strings.Contains(spec, "TZ") {
		return nil, fmt.Errorf("cannot use TZ or CRON_TZ in schedule: shoal runs schedules in UTC")
	}
	return cron.ParseStandard(spec)
}

// ValidateCronJob checks a defaulted CronJob, and its job template as a
// Job's spec.
func ValidateCronJob(cj *CronJob) error {
	errs := validateReplicatedMeta(&cj.ObjectMeta, nil)
	if len(cj.Name) > maxCronJobName {
		errs = append(errs, &FieldError{Path: "metadata.name", Value: cj.Name, Detail: fmt.Sprintf("must be no more than %d characters", maxCronJobName)})
	}
	s := &cj.Spec
	if s.Schedule == "" {
		errs = append(errs, &FieldError{Path: "spec.schedule", Detail: "required"})
	} else if _, err := CronSchedule(s.Schedule); err != nil {
		errs = append(errs, &FieldError{Path: "spec.schedule", Value: s.Schedule, Detail: err.Error()})
	}
	switch s.ConcurrencyPolicy {
	case AllowConcurrent, ForbidConcurrent, ReplaceConcurrent:
	default:
		errs = append(errs, &FieldError{Path: "spec.concurrencyPolicy", Value: string(s.ConcurrencyPolicy),
			Detail: `supported values: "Allow", "Forbid", "Replace"`})
	}
	nonNegative := func(path string, v *int32) {
		if v != nil && *v < 0 {
			errs = append(errs, &FieldError{Path: path, Value: fmt.Sprint(*v), Detail: "must be greater than or equal to 0"})
		}
	}
	nonNegative("spec.successfulJobsHistoryLimit", s.SuccessfulJobsHistoryLimit)
	nonNegative("spec.failedJobsHistoryLimit", s.FailedJobsHistoryLimit)
	if d := s.StartingDeadlineSeconds; d != nil && *d < 0 {
		errs = append(errs, &FieldError{Path: "spec.startingDeadlineSeconds", Value: fmt.Sprint(*d), Detail: "must be greater than or equal to 0"})
	}
	j := CronJobJob(cj)
	j.Name = "x" // the Job's name is the CronJob's and a suffix: checked above
	if err := ValidateJob(j); err != nil {
		for _, fe := range AsFieldErrors(err) {
			if strings.HasPrefix(fe.Path, "spec.") {
				fe.Path = "spec.jobTemplate." + fe.Path
			}
			errs = append(errs, fe)
		}
	}
	return errs.orNil()
}

// CronJobJob is a Job of the CronJob's template, not yet named, owned by
// the CronJob.
func CronJobJob(cj *CronJob) *Job {
	t := cj.Spec.JobTemplate.DeepCopy()
	j := &Job{TypeMeta: TypeMeta{APIVersion: BatchV1, Kind: KindJob}, Spec: t.Spec}
	j.Namespace = cj.Namespace
	j.Labels = t.Labels
	j.Annotations = t.Annotations
	if cj.UID != "" {
		j.OwnerReferences = []OwnerReference{NewControllerRef(cj)}
	}
	return j
}
