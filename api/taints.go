package api

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Taints and tolerations (nodes' spec.taints, pods' spec.tolerations) are
// Kubernetes' own types; a toleration matches a taint as
// corev1.Toleration.ToleratesTaint says (ToleratesTaint below, without the
// numeric Lt/Gt operators, which validation refuses).
type (
	Taint       = corev1.Taint
	TaintEffect = corev1.TaintEffect
	Toleration  = corev1.Toleration
)

// The taint effects.
const (
	TaintNoSchedule       = corev1.TaintEffectNoSchedule
	TaintPreferNoSchedule = corev1.TaintEffectPreferNoSchedule
	TaintNoExecute        = corev1.TaintEffectNoExecute
)

// TaintUnschedulable is the taint a cordoned node is read as having, as
// Kubernetes' node controller adds it: a pod that tolerates it (a
// DaemonSet's) may still be placed on a cordoned node.
const TaintUnschedulable = "node.kubernetes.io/unschedulable"

// Tolerates reports whether any of tolerations tolerates the taint.
func Tolerates(tolerations []Toleration, taint *Taint) bool {
	for i := range tolerations {
		if ToleratesTaint(&tolerations[i], taint) {
			return true
		}
	}
	return false
}

// ToleratesTaint is Kubernetes' rule: an empty effect matches every
// effect, an empty key (with Exists) every key, Exists every value, Equal
// (or no operator) the same value.
func ToleratesTaint(t *Toleration, taint *Taint) bool {
	if t.Effect != "" && t.Effect != taint.Effect {
		return false
	}
	if t.Key != "" && t.Key != taint.Key {
		return false
	}
	switch t.Operator {
	case "", corev1.TolerationOpEqual:
		return t.Value == taint.Value
	case corev1.TolerationOpExists:
		return true
	}
	return false
}

// validateTaints checks a node's spec.taints as Kubernetes'
// validateNodeTaints does: a qualified key, a label value, a known effect,
// each key and effect once.
func validateTaints(path string, taints []Taint) FieldErrors {
	var errs FieldErrors
	seen := map[[2]string]int{}
	for i := range taints {
		t := &taints[i]
		p := fmt.Sprintf("%s[%d]", path, i)
		errs = append(errs, validateQualifiedKey(p+".key", t.Key)...)
		for _, msg := range validation.IsValidLabelValue(t.Value) {
			errs = append(errs, &FieldError{Path: p + ".value", Value: t.Value, Detail: msg})
		}
		switch t.Effect {
		case TaintNoSchedule, TaintPreferNoSchedule, TaintNoExecute:
		case "":
			errs = append(errs, &FieldError{Path: p + ".effect", Detail: "required: NoSchedule, PreferNoSchedule or NoExecute"})
		default:
			errs = append(errs, &FieldError{Path: p + ".effect", Value: string(t.Effect), Detail: "must be NoSchedule, PreferNoSchedule or NoExecute"})
		}
		k := [2]string{t.Key, string(t.Effect)}
		if prev, ok := seen[k]; ok {
			errs = append(errs, &FieldError{Path: p, Value: t.Key + ":" + string(t.Effect),
				Detail: fmt.Sprintf("duplicate taint: %s[%d] has the same key and effect", path, prev)})
		}
		seen[k] = i
	}
	return errs
}

// validateTolerations checks a pod's spec.tolerations as Kubernetes'
// ValidateTolerations does.
func validateTolerations(path string, tolerations []Toleration) FieldErrors {
	var errs FieldErrors
	for i := range tolerations {
		t := &tolerations[i]
		p := fmt.Sprintf("%s[%d]", path, i)
		if t.Key != "" {
			errs = append(errs, validateQualifiedKey(p+".key", t.Key)...)
		}
		switch t.Operator {
		case corev1.TolerationOpEqual, "":
			if t.Key == "" {
				errs = append(errs, &FieldError{Path: p + ".operator", Value: string(t.Operator),
					Detail: "must be Exists when key is empty (an empty key with Exists tolerates every taint)"})
			}
			for _, msg := range validation.IsValidLabelValue(t.Value) {
				errs = append(errs, &FieldError{Path: p + ".value", Value: t.Value, Detail: msg})
			}
		case corev1.TolerationOpExists:
			if t.Value != "" {
				errs = append(errs, &FieldError{Path: p + ".value", Value: t.Value, Detail: "must be empty when operator is Exists"})
			}
		default:
			errs = append(errs, &FieldError{Path: p + ".operator", Value: string(t.Operator), Detail: "must be Equal or Exists"})
		}
		switch t.Effect {
		case "", TaintNoSchedule, TaintPreferNoSchedule, TaintNoExecute:
		default:
			errs = append(errs, &FieldError{Path: p + ".effect", Value: string(t.Effect), Detail: "must be NoSchedule, PreferNoSchedule, NoExecute or empty (every effect)"})
		}
		if t.TolerationSeconds != nil {
			if t.Effect != TaintNoExecute {
				errs = append(errs, &FieldError{Path: p + ".tolerationSeconds", Value: fmt.Sprint(*t.TolerationSeconds),
					Detail: "only a toleration of effect NoExecute may set tolerationSeconds"})
			}
		}
	}
	return errs
}

func validateQualifiedKey(path, key string) FieldErrors {
	if key == "" {
		return FieldErrors{{Path: path, Detail: "required"}}
	}
	var errs FieldErrors
	for _, msg := range validation.IsQualifiedName(key) {
		errs = append(errs, &FieldError{Path: path, Value: key, Detail: msg})
	}
	return errs
}
