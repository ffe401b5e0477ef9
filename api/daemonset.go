package api

import (
	"fmt"
	"math"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// DaemonSets (apps/v1): one pod of the template on every node its
// nodeSelector matches (agent/controllers/daemonset.go runs them); this
// file says what of it shoal supports, its defaults and its validation.

// DaemonSet and its parts, named here so callers need not import apps/v1.
type (
	DaemonSet               = appsv1.DaemonSet
	DaemonSetList           = appsv1.DaemonSetList
	DaemonSetSpec           = appsv1.DaemonSetSpec
	DaemonSetStatus         = appsv1.DaemonSetStatus
	DaemonSetUpdateStrategy = appsv1.DaemonSetUpdateStrategy
	RollingUpdateDaemonSet  = appsv1.RollingUpdateDaemonSet
)

// KindDaemonSet is the kind of a DaemonSet.
const KindDaemonSet = "DaemonSet"

// Update strategies and the labels Kubernetes' daemon set controller puts
// on its pods, which tell an updated pod from an old one.
const (
	RollingUpdateDaemonSetStrategyType = appsv1.RollingUpdateDaemonSetStrategyType
	OnDeleteDaemonSetStrategyType      = appsv1.OnDeleteDaemonSetStrategyType
	// ControllerRevisionHashLabel holds the hash of the template a pod
	// was made from.
	ControllerRevisionHashLabel = appsv1.ControllerRevisionHashLabelKey
	// PodTemplateGenerationLabel holds the DaemonSet's generation when
	// the pod was made (deprecated in Kubernetes, still set there).
	PodTemplateGenerationLabel = "pod-template-generation"
)

func defaultDaemonSet(ds *DaemonSet) {
	ds.APIVersion, ds.Kind = AppsV1, KindDaemonSet
	if ds.Namespace == "" {
		ds.Namespace = DefaultNamespace
	}
	s := &ds.Spec
	if s.UpdateStrategy.Type == "" {
		s.UpdateStrategy.Type = RollingUpdateDaemonSetStrategyType
	}
	if s.UpdateStrategy.Type == RollingUpdateDaemonSetStrategyType {
		if s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &RollingUpdateDaemonSet{}
		}
		ru := s.UpdateStrategy.RollingUpdate
		if ru.MaxUnavailable == nil {
			v := intstr.FromInt32(1)
			ru.MaxUnavailable = &v
		}
		if ru.MaxSurge == nil {
			v := intstr.FromInt32(0)
			ru.MaxSurge = &v
		}
	}
	if s.RevisionHistoryLimit == nil {
		v := int32(DefaultRevisionHistoryLimit)
		s.RevisionHistoryLimit = &v
	}
	t := daemonTemplate(ds)
	if t != nil && len(ds.Labels) == 0 {
		ds.Labels = copyMap(t.Labels)
	}
	defaultTemplate(t, ds.Namespace)
}

// daemonTemplate is spec.template, nil when absent (apps/v1 holds it by
// value: an absent one is the zero one).
func daemonTemplate(ds *DaemonSet) *PodTemplateSpec {
	if reflect.ValueOf(ds.Spec.Template).IsZero() {
		return nil
	}
	return &ds.Spec.Template
}

// ValidateDaemonSet checks a defaulted DaemonSet.
func ValidateDaemonSet(ds *DaemonSet) error {
	errs := validateReplicatedMeta(&ds.ObjectMeta, nil)
	s := &ds.Spec
	if s.Selector == nil || (len(s.Selector.MatchLabels) == 0 && len(s.Selector.MatchExpressions) == 0) {
		errs = append(errs, &FieldError{Path: "spec.selector", Detail: "required: matchLabels or matchExpressions"})
	} else {
		errs = append(errs, validateLabels("spec.selector.matchLabels", s.Selector.MatchLabels)...)
		if _, err := SelectorOf(s.Selector); err != nil {
			errs = append(errs, &FieldError{Path: "spec.selector", Detail: err.Error()})
		}
	}
	t := daemonTemplate(ds)
	errs = append(errs, validateDaemonTemplate(t, s.Selector)...)
	if t != nil {
		for _, l := range []string{ControllerRevisionHashLabel, PodTemplateGenerationLabel} {
			if _, ok := t.Labels[l]; ok {
				errs = append(errs, &FieldError{Path: "spec.template.metadata.labels." + l,
					Detail: "is set by the daemon set controller on its pods; leave it out"})
			}
		}
		if t.Spec.NodeName != "" {
			errs = append(errs, &FieldError{Path: "spec.template.spec.nodeName", Value: t.Spec.NodeName,
				Detail: "must be empty: the daemon set controller puts one pod on each node"})
		}
	}
	switch s.UpdateStrategy.Type {
	case OnDeleteDaemonSetStrategyType:
		if s.UpdateStrategy.RollingUpdate != nil {
			errs = append(errs, &FieldError{Path: "spec.updateStrategy.rollingUpdate", Detail: "may not be specified when strategy `type` is 'OnDelete'"})
		}
	case RollingUpdateDaemonSetStrategyType:
		errs = append(errs, validateDaemonRollingUpdate(s.UpdateStrategy.RollingUpdate)...)
	default:
		errs = append(errs, &FieldError{Path: "spec.updateStrategy.type", Value: string(s.UpdateStrategy.Type), Detail: "must be RollingUpdate or OnDelete"})
	}
	if s.MinReadySeconds < 0 {
		errs = append(errs, &FieldError{Path: "spec.minReadySeconds", Value: fmt.Sprint(s.MinReadySeconds), Detail: "must be greater than or equal to 0"})
	}
	if v := s.RevisionHistoryLimit; v != nil && *v < 0 {
		errs = append(errs, &FieldError{Path: "spec.revisionHistoryLimit", Value: fmt.Sprint(*v), Detail: "must be greater than or equal to 0"})
	}
	return errs.orNil()
}

// validateDaemonTemplate is validateTemplate's checks with the
// DaemonSet's selector: the template's labels must match it and its pods
// restart in place (restartPolicy Always).
func validateDaemonTemplate(t *PodTemplateSpec, selector *LabelSelector) FieldErrors {
	if t == nil {
		return FieldErrors{{Path: "spec.template", Detail: "required"}}
	}
	var errs FieldErrors
	errs = append(errs, validateLabels("spec.template.metadata.labels", t.Labels)...)
	errs = append(errs, validatePodSpec("spec.template.spec", &t.Spec)...)
	if t.Spec.RestartPolicy != RestartAlways {
		errs = append(errs, &FieldError{Path: "spec.template.spec.restartPolicy", Value: string(t.Spec.RestartPolicy),
			Detail: "must be Always: a daemon pod that exits is restarted, not replaced"})
	}
	if t.Name != "" {
		errs = append(errs, &FieldError{Path: "spec.template.metadata.name", Value: t.Name,
			Detail: "must be empty: the controller names its pods <name>-<random>"})
	}
	sel, err := SelectorOf(selector)
	if err != nil {
		return errs
	}
	if reqs, ok := sel.Requirements(); ok && len(reqs) > 0 && !sel.Matches(labels.Set(t.Labels)) {
		errs = append(errs, &FieldError{Path: "spec.template.metadata.labels", Value: labels.Set(t.Labels).String(),
			Detail: "`selector` does not match template `labels` (" + sel.String() + ")"})
	}
	return errs
}

func validateDaemonRollingUpdate(ru *RollingUpdateDaemonSet) FieldErrors {
	const path = "spec.updateStrategy.rollingUpdate"
	if ru == nil {
		return FieldErrors{{Path: path, Detail: "required when strategy `type` is 'RollingUpdate'"}}
	}
	var errs FieldErrors
	check := func(name string, v *intstr.IntOrString) {
		errs = append(errs, validateIntOrPercent(path+"."+name, v, true)...)
	}
	check("maxUnavailable", ru.MaxUnavailable)
	check("maxSurge", ru.MaxSurge)
	if len(errs) > 0 {
		return errs
	}
	if !isZero(ru.MaxSurge) {
		errs = append(errs, &FieldError{Path: path + ".maxSurge", Value: ru.MaxSurge.String(),
			Detail: "not supported by shoal: only 0 (a node's old pod goes before its new one starts)"})
	} else if isZero(ru.MaxUnavailable) {
		errs = append(errs, &FieldError{Path: path + ".maxUnavailable", Value: ru.MaxUnavailable.String(),
			Detail: "may not be 0 when `maxSurge` is 0: the rollout could never make progress"})
	}
	return errs
}

// DaemonMaxUnavailable resolves a RollingUpdate DaemonSet's maxUnavailable
// against the number of nodes that should run its pod as Kubernetes does:
// a percentage rounds up, and it is at least 1 so that a rollout moves.
// OnDelete has none (0).
func DaemonMaxUnavailable(ds *DaemonSet, desired int32) int32 {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != RollingUpdateDaemonSetStrategyType || ru == nil || ru.MaxUnavailable == nil {
		return 0
	}
	v := ru.MaxUnavailable
	n := v.IntVal
	if v.Type == intstr.String {
		pct, _ := percent(v.StrVal)
		n = int32(math.Ceil(float64(pct) * float64(desired) / 100))
	}
	return max(n, 1)
}

// PodFromDaemonSet makes a new pod of the DaemonSet's template for node,
// labelled with the template's hash and the DaemonSet's generation; the
// caller names it.
func PodFromDaemonSet(ds *DaemonSet, node, hash string) *Pod {
	t := &ds.Spec.Template
	p := &Pod{TypeMeta: TypeMeta{APIVersion: V1, Kind: KindPod}}
	p.Namespace = ds.Namespace
	p.Labels = copyMap(t.Labels)
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels[ControllerRevisionHashLabel] = hash
	p.Labels[PodTemplateGenerationLabel] = fmt.Sprint(ds.Generation)
	p.Annotations = copyMap(t.Annotations)
	p.OwnerReferences = []OwnerReference{NewControllerRef(ds)}
	p.Spec = *t.Spec.DeepCopy()
	p.Spec.NodeName = node
	p.Spec.Tolerations = DaemonPodTolerations(p.Spec.Tolerations)
	return p
}

// daemonTolerations are the tolerations Kubernetes' daemon set controller
// adds to every daemon pod (AddOrUpdateDaemonPodTolerations): a daemon pod
// stays on a node that is not ready or unreachable, and is placed on one
// that is cordoned or short of disk, memory or pids.
var daemonTolerations = []Toleration{
	{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: TaintNoExecute},
	{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: TaintNoExecute},
	{Key: "node.kubernetes.io/disk-pressure", Operator: corev1.TolerationOpExists, Effect: TaintNoSchedule},
	{Key: "node.kubernetes.io/memory-pressure", Operator: corev1.TolerationOpExists, Effect: TaintNoSchedule},
	{Key: "node.kubernetes.io/pid-pressure", Operator: corev1.TolerationOpExists, Effect: TaintNoSchedule},
	{Key: TaintUnschedulable, Operator: corev1.TolerationOpExists, Effect: TaintNoSchedule},
}

// DaemonPodTolerations is tolerations with the daemon pod's own added,
// each unless one of the same key and effect is there already.
func DaemonPodTolerations(tolerations []Toleration) []Toleration {
	out := append([]Toleration(nil), tolerations...)
	for _, d := range daemonTolerations {
		have := false
		for _, t := range tolerations {
			have = have || t.Key == d.Key && t.Effect == d.Effect
		}
		if !have {
			out = append(out, d)
		}
	}
	return out
}

// DaemonNodeFit is Kubernetes' NodeShouldRunDaemonPod: whether node should
// run the DaemonSet's pod (its labels match the template's nodeSelector
// and required node affinity, and the pod, with the daemon tolerations, tolerates its NoSchedule and
// NoExecute taints), and, when it should not, whether a pod already there
// may stay (it tolerates the NoExecute ones). A cordoned node is read as
// tainted node.kubernetes.io/unschedulable, which daemon pods tolerate.
func DaemonNodeFit(ds *DaemonSet, n *Node) (shouldRun, mayStay bool) {
	pod := &Pod{Spec: ds.Spec.Template.Spec}
	if match, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(n); err != nil || !match {
		return false, false
	}
	tolerations := DaemonPodTolerations(ds.Spec.Template.Spec.Tolerations)
	shouldRun, mayStay = true, true
	for i := range n.Spec.Taints {
		t := &n.Spec.Taints[i]
		if t.Effect == TaintPreferNoSchedule || Tolerates(tolerations, t) {
			continue
		}
		shouldRun = false
		if t.Effect == TaintNoExecute {
			mayStay = false
		}
	}
	return shouldRun, mayStay
}
