package api

import (
	"fmt"
	"math"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Deployments (apps/v1): a Deployment owns one ReplicaSet per pod template
// (agent/controllers/deployment.go rolls between them); this file says
// what of it shoal supports, its defaults and its validation.

// Deployment and its parts, named here so callers need not import apps/v1.
type (
	Deployment              = appsv1.Deployment
	DeploymentList          = appsv1.DeploymentList
	DeploymentSpec          = appsv1.DeploymentSpec
	DeploymentStatus        = appsv1.DeploymentStatus
	DeploymentStrategy      = appsv1.DeploymentStrategy
	RollingUpdateDeployment = appsv1.RollingUpdateDeployment
	DeploymentCondition     = appsv1.DeploymentCondition
	DeploymentConditionType = appsv1.DeploymentConditionType
)

// KindDeployment is the kind of a Deployment.
const KindDeployment = "Deployment"

// Strategy types and the annotations and label of Kubernetes' deployment
// controller, which kubectl rollout reads.
const (
	RecreateDeploymentStrategyType      = appsv1.RecreateDeploymentStrategyType
	RollingUpdateDeploymentStrategyType = appsv1.RollingUpdateDeploymentStrategyType
	DeploymentAvailable                 = appsv1.DeploymentAvailable
	DeploymentProgressing               = appsv1.DeploymentProgressing
	// RevisionAnnotation numbers a Deployment's ReplicaSets in the order
	// their templates were rolled out.
	RevisionAnnotation = "deployment.kubernetes.io/revision"
	// PodTemplateHashLabel tells a Deployment's ReplicaSets (and their
	// pods) apart by their template.
	PodTemplateHashLabel = appsv1.DefaultDeploymentUniqueLabelKey
)

// Defaults of a Deployment, as in Kubernetes.
const (
	DefaultRevisionHistoryLimit    = 10
	DefaultProgressDeadlineSeconds = 600
)

func defaultDeployment(d *Deployment) {
	d.APIVersion, d.Kind = AppsV1, KindDeployment
	if d.Namespace == "" {
		d.Namespace = DefaultNamespace
	}
	s := &d.Spec
	if s.Replicas == nil {
		SetDesiredReplicas(d, 1)
	}
	if s.Strategy.Type == "" {
		s.Strategy.Type = RollingUpdateDeploymentStrategyType
	}
	if s.Strategy.Type == RollingUpdateDeploymentStrategyType {
		if s.Strategy.RollingUpdate == nil {
			s.Strategy.RollingUpdate = &RollingUpdateDeployment{}
		}
		quarter := intstr.FromString("25%")
		if s.Strategy.RollingUpdate.MaxSurge == nil {
			v := quarter
			s.Strategy.RollingUpdate.MaxSurge = &v
		}
		if s.Strategy.RollingUpdate.MaxUnavailable == nil {
			v := quarter
			s.Strategy.RollingUpdate.MaxUnavailable = &v
		}
	}
	if s.RevisionHistoryLimit == nil {
		v := int32(DefaultRevisionHistoryLimit)
		s.RevisionHistoryLimit = &v
	}
	if s.ProgressDeadlineSeconds == nil {
		v := int32(DefaultProgressDeadlineSeconds)
		s.ProgressDeadlineSeconds = &v
	}
	if t := PodTemplate(d); t != nil && len(d.Labels) == 0 {
		d.Labels = copyMap(t.Labels)
	}
	defaultTemplate(PodTemplate(d), d.Namespace)
}

// ValidateDeployment checks a defaulted Deployment.
func ValidateDeployment(d *Deployment) error {
	errs := validateReplicatedMeta(&d.ObjectMeta, d.Spec.Replicas)
	if d.Spec.Selector == nil || (len(d.Spec.Selector.MatchLabels) == 0 && len(d.Spec.Selector.MatchExpressions) == 0) {
		errs = append(errs, &FieldError{Path: "spec.selector", Detail: "required: matchLabels or matchExpressions"})
	} else {
		errs = append(errs, validateLabels("spec.selector.matchLabels", d.Spec.Selector.MatchLabels)...)
		if _, err := SelectorOf(d.Spec.Selector); err != nil {
			errs = append(errs, &FieldError{Path: "spec.selector", Detail: err.Error()})
		}
	}
	errs = append(errs, validateTemplate(PodTemplate(d), d)...)
	if t := PodTemplate(d); t != nil {
		if _, ok := t.Labels[PodTemplateHashLabel]; ok {
			errs = append(errs, &FieldError{Path: "spec.template.metadata.labels." + PodTemplateHashLabel,
				Detail: "is set by the deployment controller on its ReplicaSets; leave it out"})
		}
	}
	s := d.Spec
	switch s.Strategy.Type {
	case RecreateDeploymentStrategyType:
		if s.Strategy.RollingUpdate != nil {
			errs = append(errs, &FieldError{Path: "spec.strategy.rollingUpdate", Detail: "may not be specified when strategy `type` is 'Recreate'"})
		}
	case RollingUpdateDeploymentStrategyType:
		errs = append(errs, validateRollingUpdate(s.Strategy.RollingUpdate)...)
	default:
		errs = append(errs, &FieldError{Path: "spec.strategy.type", Value: string(s.Strategy.Type), Detail: "must be RollingUpdate or Recreate"})
	}
	nonNegative := func(path string, v int32) {
		if v < 0 {
			errs = append(errs, &FieldError{Path: path, Value: fmt.Sprint(v), Detail: "must be greater than or equal to 0"})
		}
	}
	nonNegative("spec.minReadySeconds", s.MinReadySeconds)
	if s.RevisionHistoryLimit != nil {
		nonNegative("spec.revisionHistoryLimit", *s.RevisionHistoryLimit)
	}
	if p := s.ProgressDeadlineSeconds; p != nil {
		if *p <= s.MinReadySeconds {
			errs = append(errs, &FieldError{Path: "spec.progressDeadlineSeconds", Value: fmt.Sprint(*p), Detail: "must be greater than minReadySeconds"})
		}
	}
	return errs.orNil()
}

func validateRollingUpdate(ru *RollingUpdateDeployment) FieldErrors {
	const path = "spec.strategy.rollingUpdate"
	if ru == nil {
		return FieldErrors{{Path: path, Detail: "required when strategy `type` is 'RollingUpdate'"}}
	}
	var errs FieldErrors
	check := func(name string, v *intstr.IntOrString) {
		errs = append(errs, validateIntOrPercent(path+"."+name, v, name == "maxUnavailable")...)
	}
	check("maxSurge", ru.MaxSurge)
	check("maxUnavailable", ru.MaxUnavailable)
	if len(errs) == 0 && isZero(ru.MaxSurge) && isZero(ru.MaxUnavailable) {
		errs = append(errs, &FieldError{Path: path + ".maxUnavailable", Value: ru.MaxUnavailable.String(),
			Detail: "may not be 0 when `maxSurge` is 0: the rollout could never make progress"})
	}
	return errs
}

// validateIntOrPercent checks a rolling update's maxSurge or
// maxUnavailable at path: required, an integer or a percentage, not
// negative, and at most 100% when upTo100.
func validateIntOrPercent(path string, v *intstr.IntOrString, upTo100 bool) FieldErrors {
	if v == nil {
		return FieldErrors{{Path: path, Detail: "required"}}
	}
	if v.Type == intstr.Int {
		if v.IntVal < 0 {
			return FieldErrors{{Path: path, Value: v.String(), Detail: "must be greater than or equal to 0"}}
		}
		return nil
	}
	pct, ok := percent(v.StrVal)
	switch {
	case !ok:
		return FieldErrors{{Path: path, Value: v.StrVal, Detail: "must be an integer or a percentage (e.g. '5%')"}}
	case pct < 0:
		return FieldErrors{{Path: path, Value: v.StrVal, Detail: "must be greater than or equal to 0"}}
	case pct > 100 && upTo100:
		return FieldErrors{{Path: path, Value: v.StrVal, Detail: "must not be greater than 100%"}}
	}
	return nil
}

// percent reads "25%"; ok is false for anything else.
func percent(s string) (int, bool) {
	var n int
	var rest string
	if c, err := fmt.Sscanf(s, "%d%s", &n, &rest); c != 2 || err != nil || rest != "%" {
		return 0, false
	}
	return n, true
}

func isZero(v *intstr.IntOrString) bool {
	if v.Type == intstr.Int {
		return v.IntVal == 0
	}
	n, ok := percent(v.StrVal)
	return ok && n == 0
}

// RollingBounds resolves a RollingUpdate Deployment's maxSurge and
// maxUnavailable against its replicas as Kubernetes does: a percentage of
// surge rounds up, of unavailability down, and when both come to 0
// unavailability is 1 so that a rollout can move. Recreate has neither.
func RollingBounds(d *Deployment) (surge, unavailable int32) {
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type != RollingUpdateDeploymentStrategyType || ru == nil {
		return 0, 0
	}
	replicas := DesiredReplicas(d)
	surge = scaled(ru.MaxSurge, replicas, true)
	unavailable = scaled(ru.MaxUnavailable, replicas, false)
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	if unavailable > replicas {
		unavailable = replicas
	}
	return surge, unavailable
}

func scaled(v *intstr.IntOrString, total int32, roundUp bool) int32 {
	if v == nil {
		return 0
	}
	if v.Type == intstr.Int {
		return v.IntVal
	}
	pct, ok := percent(v.StrVal)
	if !ok {
		return 0
	}
	f := float64(pct) * float64(total) / 100
	if roundUp {
		return int32(math.Ceil(f))
	}
	return int32(math.Floor(f))
}

// ControllerOfMeta returns the controller owner reference of an object's
// metadata, or nil.
func ControllerOfMeta(m *ObjectMeta) *OwnerReference {
	for i := range m.OwnerReferences {
		ref := &m.OwnerReferences[i]
		if ref.Controller != nil && *ref.Controller {
			return ref
		}
	}
	return nil
}
