package api

import (
	"fmt"

	coordinationv1 "k8s.io/api/coordination/v1"
)

// Leases (coordination.k8s.io/v1) are small records of who holds what and
// until when: the node heartbeats in kube-node-lease that kubectl describe
// node shows, and the locks client-go's leader election takes. shoal
// stores them as they come, with resourceVersion compare-and-set, which
// is all leader election needs.
type (
	Lease     = coordinationv1.Lease
	LeaseList = coordinationv1.LeaseList
	LeaseSpec = coordinationv1.LeaseSpec
)

// Lease names.
const (
	KindLease        = "Lease"
	CoordinationV1   = "coordination.k8s.io/v1"
	NodeLeaseNS      = "kube-node-lease"
	NodeLeaseSeconds = 40 // the kubelet's nodeLeaseDurationSeconds
)

func defaultLease(l *Lease) {
	l.APIVersion, l.Kind = CoordinationV1, KindLease
	if l.Namespace == "" {
		l.Namespace = DefaultNamespace
	}
}

// ValidateLease checks a defaulted Lease as Kubernetes' ValidateLeaseSpec
// does.
func ValidateLease(l *Lease) error {
	var errs FieldErrors
	errs = append(errs, validateName("metadata.name", l.Name)...)
	errs = append(errs, validateDNSLabel("metadata.namespace", l.Namespace)...)
	errs = append(errs, validateLabels("metadata.labels", l.Labels)...)
	if d := l.Spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		errs = append(errs, &FieldError{Path: "spec.leaseDurationSeconds", Value: fmt.Sprint(*d), Detail: "must be greater than 0"})
	}
	if n := l.Spec.LeaseTransitions; n != nil && *n < 0 {
		errs = append(errs, &FieldError{Path: "spec.leaseTransitions", Value: fmt.Sprint(*n), Detail: "must be greater than or equal to 0"})
	}
	return errs.orNil()
}
