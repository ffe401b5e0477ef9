package api

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// Affinity types. shoal honours node affinity, required and preferred
// (placement matches it with Kubernetes' own nodeaffinity helpers); pod
// affinity and anti-affinity are refused by name (supported.go).
type (
	Affinity                = corev1.Affinity
	NodeAffinity            = corev1.NodeAffinity
	NodeSelector            = corev1.NodeSelector
	NodeSelectorTerm        = corev1.NodeSelectorTerm
	NodeSelectorRequirement = corev1.NodeSelectorRequirement
	PreferredSchedulingTerm = corev1.PreferredSchedulingTerm
)

// Node selector operators.
const (
	NodeSelectorOpIn           = corev1.NodeSelectorOpIn
	NodeSelectorOpNotIn        = corev1.NodeSelectorOpNotIn
	NodeSelectorOpExists       = corev1.NodeSelectorOpExists
	NodeSelectorOpDoesNotExist = corev1.NodeSelectorOpDoesNotExist
	NodeSelectorOpGt           = corev1.NodeSelectorOpGt
	NodeSelectorOpLt           = corev1.NodeSelectorOpLt
)

// validateNodeAffinity checks node affinity as Kubernetes' ValidateAffinity
// does: every term parses (operators, values, integers for Gt and Lt,
// metadata.name the only field), a required affinity has a term, and a
// preference weighs 1 to 100.
func validateNodeAffinity(path string, a *Affinity) FieldErrors {
	if a == nil || a.NodeAffinity == nil {
		return nil
	}
	var errs FieldErrors
	na := a.NodeAffinity
	p := path + ".nodeAffinity"
	if req := na.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
		rp := p + ".requiredDuringSchedulingIgnoredDuringExecution"
		if len(req.NodeSelectorTerms) == 0 {
			errs = append(errs, &FieldError{Path: rp + ".nodeSelectorTerms", Detail: "must have at least one node selector term"})
		}
		_, err := nodeaffinity.NewNodeSelector(req, field.WithPath(field.NewPath(rp)))
		errs = append(errs, fieldErrorsOf(err)...)
	}
	if pref := na.PreferredDuringSchedulingIgnoredDuringExecution; len(pref) > 0 {
		pp := p + ".preferredDuringSchedulingIgnoredDuringExecution"
		for i, t := range pref {
			if t.Weight < 1 || t.Weight > 100 {
				errs = append(errs, &FieldError{Path: fmt.Sprintf("%s[%d].weight", pp, i), Value: fmt.Sprint(t.Weight), Detail: "must be in the range 1-100"})
			}
		}
		_, err := nodeaffinity.NewPreferredSchedulingTerms(pref, field.WithPath(field.NewPath(pp)))
		errs = append(errs, fieldErrorsOf(err)...)
	}
	return errs
}

// fieldErrorsOf turns the field errors of apimachinery's validation (an
// aggregate of *field.Error) into shoal's.
func fieldErrorsOf(err error) FieldErrors {
	if err == nil {
		return nil
	}
	all := []error{err}
	if agg, ok := err.(utilerrors.Aggregate); ok {
		all = agg.Errors()
	}
	var errs FieldErrors
	for _, e := range all {
		if fe, ok := e.(*field.Error); ok {
			v := ""
			if fe.BadValue != nil {
				v = fmt.Sprint(fe.BadValue)
			}
			errs = append(errs, &FieldError{Path: fe.Field, Value: v, Detail: fe.Detail})
			continue
		}
		errs = append(errs, &FieldError{Detail: e.Error()})
	}
	return errs
}
