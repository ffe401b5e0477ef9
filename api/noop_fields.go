package api

import (
	"path"
	"reflect"

	corev1 "k8s.io/api/core/v1"
)

// noopFields are fields a Kubernetes object carries by default (kubectl
// get -o yaml from a cluster, Helm charts, client-go's typed structs) that
// shoal accepts with a documented no-op, so such manifests apply as they
// are (docs/manifest-fields.md):
//   - schedulerName: only default-scheduler, since the leader places every pod;
//   - enableServiceLinks: no {SVC}_SERVICE_HOST variables are injected
//     either way (pods find Services by DNS);
//   - priority: there is no preemption;
//   - terminationMessagePath/Policy: a container's termination message is
//     not read into its status.
var noopFields = map[reflect.Type][]string{
	reflect.TypeFor[corev1.PodSpec]():   {"enableServiceLinks", "priority", "schedulerName"},
	reflect.TypeFor[corev1.Container](): {"terminationMessagePath", "terminationMessagePolicy"},
}

// DefaultScheduler is the only scheduler a pod may name.
const DefaultScheduler = corev1.DefaultSchedulerName

func validateNoopPodFields(p string, s *PodSpec) FieldErrors {
	if s.SchedulerName != "" && s.SchedulerName != DefaultScheduler {
		return FieldErrors{{Path: p + ".schedulerName", Value: s.SchedulerName, Detail: "only default-scheduler: the fleet's leader places every pod"}}
	}
	return nil
}

func validateNoopContainerFields(p string, c *Container) FieldErrors {
	var errs FieldErrors
	switch c.TerminationMessagePolicy {
	case "", corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError:
	default:
		errs = append(errs, &FieldError{Path: p + ".terminationMessagePolicy", Value: string(c.TerminationMessagePolicy), Detail: "must be File or FallbackToLogsOnError"})
	}
	if m := c.TerminationMessagePath; m != "" && !path.IsAbs(m) {
		errs = append(errs, &FieldError{Path: p + ".terminationMessagePath", Value: m, Detail: "must be an absolute path"})
	}
	return errs
}
