package api

import (
	policyv1 "k8s.io/api/policy/v1"
)

// Eviction is the body of POST .../pods/{name}/eviction (policy/v1, and
// the same shape as policy/v1beta1): kubectl drain's request to delete a
// pod. shoal serves no PodDisruptionBudgets, so an eviction is a delete
// with the caller's preconditions.
type Eviction = policyv1.Eviction

// KindEviction and GroupPolicy name it on the wire and in discovery.
const (
	KindEviction = "Eviction"
	GroupPolicy  = "policy"
)
