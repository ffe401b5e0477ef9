package api

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
)

// ControllerRevisions (apps/v1) are a DaemonSet's template history, kept by
// its controller (agent/controllers/daemonset.go) for kubectl rollout
// history and undo; users read them only.

// ControllerRevision and its list, named here so callers need not import
// apps/v1.
type (
	ControllerRevision     = appsv1.ControllerRevision
	ControllerRevisionList = appsv1.ControllerRevisionList
)

// KindControllerRevision is the kind of a ControllerRevision.
const KindControllerRevision = "ControllerRevision"

func defaultControllerRevision(cr *ControllerRevision) {
	cr.APIVersion, cr.Kind = AppsV1, KindControllerRevision
	if cr.Namespace == "" {
		cr.Namespace = DefaultNamespace
	}
}

// ValidateControllerRevision checks a defaulted ControllerRevision.
func ValidateControllerRevision(cr *ControllerRevision) error {
	errs := validateReplicatedMeta(&cr.ObjectMeta, nil)
	if cr.Revision < 0 {
		errs = append(errs, &FieldError{Path: "revision", Value: fmt.Sprint(cr.Revision), Detail: "must be greater than or equal to 0"})
	}
	return errs.orNil()
}
