package api

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	corev1 "k8s.io/api/core/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// Affinity types. shoal honours node affinity, required and preferred
// (placement matches it with Kubernetes' own nodeaffinity helpers), pod
// affinity and anti-affinity, and topology spread constraints (placed by
// the leader against the pods already bound: placement/podterms.go).
type (
	Affinity                 = corev1.Affinity
	NodeAffinity             = corev1.NodeAffinity
	NodeSelector             = corev1.NodeSelector
	NodeSelectorTerm         = corev1.NodeSelectorTerm
	NodeSelectorRequirement  = corev1.NodeSelectorRequirement
	PreferredSchedulingTerm  = corev1.PreferredSchedulingTerm
	PodAffinity              = corev1.PodAffinity
	PodAntiAffinity          = corev1.PodAntiAffinity
	PodAffinityTerm          = corev1.PodAffinityTerm
	WeightedPodAffinityTerm  = corev1.WeightedPodAffinityTerm
	TopologySpreadConstraint = corev1.TopologySpreadConstraint
)

// What a topology spread constraint does when no node keeps the skew.
const (
	DoNotSchedule  = corev1.DoNotSchedule
	ScheduleAnyway = corev1.ScheduleAnyway
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
	if a == nil {
		return nil
	}
	var errs FieldErrors
	if pa := a.PodAffinity; pa != nil {
		errs = append(errs, validatePodAffinityTerms(path+".podAffinity", pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution)...)
	}
	if pa := a.PodAntiAffinity; pa != nil {
		errs = append(errs, validatePodAffinityTerms(path+".podAntiAffinity", pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution)...)
	}
	if a.NodeAffinity == nil {
		return errs
	}
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

func validatePodAffinityTerms(path string, required []PodAffinityTerm, preferred []WeightedPodAffinityTerm) FieldErrors {
	var errs FieldErrors
	for i := range required {
		errs = append(errs, validatePodAffinityTerm(fmt.Sprintf("%s.requiredDuringSchedulingIgnoredDuringExecution[%d]", path, i), &required[i])...)
	}
	for i, w := range preferred {
		p := fmt.Sprintf("%s.preferredDuringSchedulingIgnoredDuringExecution[%d]", path, i)
		if w.Weight < 1 || w.Weight > 100 {
			errs = append(errs, &FieldError{Path: p + ".weight", Value: fmt.Sprint(w.Weight), Detail: "must be in the range 1-100"})
		}
		errs = append(errs, validatePodAffinityTerm(p+".podAffinityTerm", &w.PodAffinityTerm)...)
	}
	return errs
}

func validatePodAffinityTerm(path string, t *PodAffinityTerm) FieldErrors {
	var errs FieldErrors
	errs = append(errs, validateTopologyKey(path+".topologyKey", t.TopologyKey)...)
	errs = append(errs, validateLabelSelector(path+".labelSelector", t.LabelSelector)...)
	for i, ns := range t.Namespaces {
		errs = append(errs, validateDNSLabel(fmt.Sprintf("%s.namespaces[%d]", path, i), ns)...)
	}
	return errs
}

// validateTopologySpread checks a pod's topology spread constraints as
// Kubernetes' validation does.
func validateTopologySpread(path string, cs []TopologySpreadConstraint) FieldErrors {
	var errs FieldErrors
	seen := map[string]bool{}
	for i, c := range cs {
		p := fmt.Sprintf("%s[%d]", path, i)
		if c.MaxSkew <= 0 {
			errs = append(errs, &FieldError{Path: p + ".maxSkew", Value: fmt.Sprint(c.MaxSkew), Detail: "must be greater than zero"})
		}
		errs = append(errs, validateTopologyKey(p+".topologyKey", c.TopologyKey)...)
		switch c.WhenUnsatisfiable {
		case DoNotSchedule, ScheduleAnyway:
		default:
			errs = append(errs, &FieldError{Path: p + ".whenUnsatisfiable", Value: string(c.WhenUnsatisfiable), Detail: "must be DoNotSchedule or ScheduleAnyway"})
		}
		if k := c.TopologyKey + "/" + string(c.WhenUnsatisfiable); seen[k] {
			errs = append(errs, &FieldError{Path: p, Detail: fmt.Sprintf("duplicate {topologyKey %q, whenUnsatisfiable %q}", c.TopologyKey, c.WhenUnsatisfiable)})
		} else {
			seen[k] = true
		}
		errs = append(errs, validateLabelSelector(p+".labelSelector", c.LabelSelector)...)
		for j, k := range c.MatchLabelKeys {
			for _, msg := range validation.IsQualifiedName(k) {
				errs = append(errs, &FieldError{Path: fmt.Sprintf("%s.matchLabelKeys[%d]", p, j), Value: k, Detail: msg})
			}
		}
	}
	return errs
}

func validateTopologyKey(path, key string) FieldErrors {
	if key == "" {
		return FieldErrors{{Path: path, Detail: "can not be empty"}}
	}
	var errs FieldErrors
	for _, msg := range validation.IsQualifiedName(key) {
		errs = append(errs, &FieldError{Path: path, Value: key, Detail: msg})
	}
	return errs
}

func validateLabelSelector(path string, ls *LabelSelector) FieldErrors {
	if ls == nil {
		return nil
	}
	if _, err := metav1.LabelSelectorAsSelector(ls); err != nil {
		return FieldErrors{{Path: path, Detail: err.Error()}}
	}
	return nil
}
