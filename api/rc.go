package api

import (
	"fmt"
	"reflect"
	"sort"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// Replicated is a ReplicationController or a ReplicaSet: the replication
// controller runs both through the functions below.
type Replicated = Object

// ReplicaCounts is what the replication controller observed of an RC or a
// ReplicaSet: the status fields both kinds share, comparable, and written
// into the log with Kubernetes' JSON names.
type ReplicaCounts struct {
	Replicas             int32 `json:"replicas"`
	FullyLabeledReplicas int32 `json:"fullyLabeledReplicas,omitempty"`
	ReadyReplicas        int32 `json:"readyReplicas,omitempty"`
	AvailableReplicas    int32 `json:"availableReplicas,omitempty"`
	ObservedGeneration   int64 `json:"observedGeneration,omitempty"`
}

// DesiredReplicas is spec.replicas (1 when absent, as in Kubernetes).
func DesiredReplicas(obj Replicated) int32 {
	switch o := obj.(type) {
	case *ReplicationController:
		return replicasOr1(o.Spec.Replicas)
	case *ReplicaSet:
		return replicasOr1(o.Spec.Replicas)
	case *Deployment:
		return replicasOr1(o.Spec.Replicas)
	}
	return 0
}

// SetDesiredReplicas sets spec.replicas.
func SetDesiredReplicas(obj Replicated, n int32) {
	switch o := obj.(type) {
	case *ReplicationController:
		o.Spec.Replicas = &n
	case *ReplicaSet:
		o.Spec.Replicas = &n
	case *Deployment:
		o.Spec.Replicas = &n
	}
}

// PodTemplate is spec.template; nil only on an invalid object.
func PodTemplate(obj Replicated) *PodTemplateSpec {
	switch o := obj.(type) {
	case *ReplicationController:
		return o.Spec.Template
	case *ReplicaSet:
		// apps/v1 holds the template by value: an absent one is the zero one.
		if reflect.ValueOf(o.Spec.Template).IsZero() {
			return nil
		}
		return &o.Spec.Template
	case *Deployment:
		if reflect.ValueOf(o.Spec.Template).IsZero() {
			return nil
		}
		return &o.Spec.Template
	}
	return nil
}

// PodSelector is the label selector the controller counts pods with. An
// RC's selector is equality on every label; an empty selector selects
// nothing, so a broken controller never claims every pod.
func PodSelector(obj Replicated) (labels.Selector, error) {
	switch o := obj.(type) {
	case *ReplicationController:
		if len(o.Spec.Selector) == 0 {
			return labels.Nothing(), nil
		}
		return labels.SelectorFromValidatedSet(labels.Set(o.Spec.Selector)), nil
	case *ReplicaSet:
		return SelectorOf(o.Spec.Selector)
	case *Deployment:
		return SelectorOf(o.Spec.Selector)
	}
	return nil, fmt.Errorf("%T is not a replicated object", obj)
}

// ReplicaStatus returns the counts of the controller's status.
func ReplicaStatus(obj Replicated) ReplicaCounts {
	switch o := obj.(type) {
	case *ReplicationController:
		s := o.Status
		return ReplicaCounts{Replicas: s.Replicas, FullyLabeledReplicas: s.FullyLabeledReplicas,
			ReadyReplicas: s.ReadyReplicas, AvailableReplicas: s.AvailableReplicas, ObservedGeneration: s.ObservedGeneration}
	case *ReplicaSet:
		s := o.Status
		return ReplicaCounts{Replicas: s.Replicas, FullyLabeledReplicas: s.FullyLabeledReplicas,
			ReadyReplicas: s.ReadyReplicas, AvailableReplicas: s.AvailableReplicas, ObservedGeneration: s.ObservedGeneration}
	case *Deployment:
		s := o.Status
		return ReplicaCounts{Replicas: s.Replicas, ReadyReplicas: s.ReadyReplicas, AvailableReplicas: s.AvailableReplicas, ObservedGeneration: s.ObservedGeneration}
	}
	return ReplicaCounts{}
}

// SetReplicaStatus replaces the controller's status with c.
func SetReplicaStatus(obj Replicated, c ReplicaCounts) {
	switch o := obj.(type) {
	case *ReplicationController:
		o.Status = ReplicationControllerStatus{Replicas: c.Replicas, FullyLabeledReplicas: c.FullyLabeledReplicas,
			ReadyReplicas: c.ReadyReplicas, AvailableReplicas: c.AvailableReplicas, ObservedGeneration: c.ObservedGeneration}
	case *ReplicaSet:
		o.Status = ReplicaSetStatus{Replicas: c.Replicas, FullyLabeledReplicas: c.FullyLabeledReplicas,
			ReadyReplicas: c.ReadyReplicas, AvailableReplicas: c.AvailableReplicas, ObservedGeneration: c.ObservedGeneration}
	case *Deployment:
		o.Status = DeploymentStatus{Replicas: c.Replicas, ReadyReplicas: c.ReadyReplicas,
			AvailableReplicas: c.AvailableReplicas, ObservedGeneration: c.ObservedGeneration}
	}
}

func replicasOr1(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// SelectorOf turns an apps/v1 selector into a labels.Selector; a nil or
// empty one selects nothing.
func SelectorOf(ls *LabelSelector) (labels.Selector, error) {
	if ls == nil || (len(ls.MatchLabels) == 0 && len(ls.MatchExpressions) == 0) {
		return labels.Nothing(), nil
	}
	sel := labels.NewSelector()
	keys := make([]string, 0, len(ls.MatchLabels))
	for k := range ls.MatchLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r, err := labels.NewRequirement(k, selection.Equals, []string{ls.MatchLabels[k]})
		if err != nil {
			return nil, fmt.Errorf("matchLabels.%s: %w", k, err)
		}
		sel = sel.Add(*r)
	}
	for i, e := range ls.MatchExpressions {
		var op selection.Operator
		switch e.Operator {
		case "In":
			op = selection.In
		case "NotIn":
			op = selection.NotIn
		case "Exists":
			op = selection.Exists
		case "DoesNotExist":
			op = selection.DoesNotExist
		default:
			return nil, fmt.Errorf("matchExpressions[%d].operator: %q is not In, NotIn, Exists or DoesNotExist", i, e.Operator)
		}
		r, err := labels.NewRequirement(e.Key, op, e.Values)
		if err != nil {
			return nil, fmt.Errorf("matchExpressions[%d]: %w", i, err)
		}
		sel = sel.Add(*r)
	}
	return sel, nil
}

// ControllerOf returns the pod's controller owner reference, or nil.
func ControllerOf(p *Pod) *OwnerReference {
	for i := range p.OwnerReferences {
		ref := &p.OwnerReferences[i]
		if ref.Controller != nil && *ref.Controller {
			return ref
		}
	}
	return nil
}

// NewControllerRef is the owner reference a controller puts on its pods.
func NewControllerRef(owner Replicated) OwnerReference {
	yes := true
	tm := TypeMetaOf(owner)
	return OwnerReference{APIVersion: tm.APIVersion, Kind: tm.Kind, Name: owner.GetName(),
		UID: owner.GetUID(), Controller: &yes, BlockOwnerDeletion: &yes}
}

// PodFromTemplate makes a new pod of the controller's template; the caller
// names it.
func PodFromTemplate(owner Replicated) *Pod {
	t := PodTemplate(owner)
	p := &Pod{TypeMeta: TypeMeta{APIVersion: V1, Kind: KindPod}}
	p.Namespace = owner.GetNamespace()
	p.Labels = copyMap(t.Labels)
	p.Annotations = copyMap(t.Annotations)
	p.OwnerReferences = []OwnerReference{NewControllerRef(owner)}
	p.Spec = *t.Spec.DeepCopy()
	return p
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func defaultReplicationController(rc *ReplicationController) {
	rc.APIVersion, rc.Kind = V1, KindReplicationController
	if rc.Namespace == "" {
		rc.Namespace = DefaultNamespace
	}
	if rc.Spec.Replicas == nil {
		SetDesiredReplicas(rc, 1)
	}
	if t := rc.Spec.Template; t != nil {
		// As in Kubernetes: the selector and the RC's own labels default
		// to the template's labels.
		if len(rc.Spec.Selector) == 0 {
			rc.Spec.Selector = copyMap(t.Labels)
		}
		if len(rc.Labels) == 0 {
			rc.Labels = copyMap(t.Labels)
		}
	}
	defaultTemplate(rc.Spec.Template, rc.Namespace)
}

func defaultReplicaSet(rs *ReplicaSet) {
	rs.APIVersion, rs.Kind = AppsV1, KindReplicaSet
	if rs.Namespace == "" {
		rs.Namespace = DefaultNamespace
	}
	if rs.Spec.Replicas == nil {
		SetDesiredReplicas(rs, 1)
	}
	if t := PodTemplate(rs); t != nil && len(rs.Labels) == 0 {
		rs.Labels = copyMap(t.Labels)
	}
	defaultTemplate(PodTemplate(rs), rs.Namespace)
}

// defaultTemplate defaults the template's pod as a pod of its own would be.
func defaultTemplate(t *PodTemplateSpec, ns string) {
	if t == nil {
		return
	}
	p := &Pod{ObjectMeta: t.ObjectMeta, Spec: t.Spec}
	defaultPod(p)
	t.Spec = p.Spec
}

// ValidateReplicationController checks a defaulted RC.
func ValidateReplicationController(rc *ReplicationController) error {
	errs := validateReplicatedMeta(&rc.ObjectMeta, rc.Spec.Replicas)
	errs = append(errs, validateLabels("spec.selector", rc.Spec.Selector)...)
	if len(rc.Spec.Selector) == 0 {
		errs = append(errs, &FieldError{Path: "spec.selector", Detail: "required: give it, or labels in spec.template.metadata.labels"})
	}
	errs = append(errs, validateTemplate(rc.Spec.Template, rc)...)
	return errs.orNil()
}

// ValidateReplicaSet checks a defaulted ReplicaSet.
func ValidateReplicaSet(rs *ReplicaSet) error {
	errs := validateReplicatedMeta(&rs.ObjectMeta, rs.Spec.Replicas)
	if rs.Spec.Selector == nil || (len(rs.Spec.Selector.MatchLabels) == 0 && len(rs.Spec.Selector.MatchExpressions) == 0) {
		errs = append(errs, &FieldError{Path: "spec.selector", Detail: "required: matchLabels or matchExpressions"})
	} else {
		errs = append(errs, validateLabels("spec.selector.matchLabels", rs.Spec.Selector.MatchLabels)...)
		if _, err := SelectorOf(rs.Spec.Selector); err != nil {
			errs = append(errs, &FieldError{Path: "spec.selector", Detail: err.Error()})
		}
	}
	errs = append(errs, validateTemplate(PodTemplate(rs), rs)...)
	return errs.orNil()
}

// ValidateReplicated validates an RC or a ReplicaSet.
func ValidateReplicated(obj Replicated) error {
	switch o := obj.(type) {
	case *ReplicationController:
		return ValidateReplicationController(o)
	case *ReplicaSet:
		return ValidateReplicaSet(o)
	case *Deployment:
		return ValidateDeployment(o)
	}
	return fmt.Errorf("validate: %T is not a replicated object", obj)
}

func validateReplicatedMeta(m *ObjectMeta, replicas *int32) FieldErrors {
	var errs FieldErrors
	errs = append(errs, validateName("metadata.name", m.Name)...)
	errs = append(errs, validateDNSLabel("metadata.namespace", m.Namespace)...)
	errs = append(errs, validateLabels("metadata.labels", m.Labels)...)
	if replicas != nil && *replicas < 0 {
		errs = append(errs, &FieldError{Path: "spec.replicas", Value: fmt.Sprint(*replicas), Detail: "must be greater than or equal to 0"})
	}
	return errs
}

func validateTemplate(t *PodTemplateSpec, owner Replicated) FieldErrors {
	if t == nil {
		return FieldErrors{{Path: "spec.template", Detail: "required"}}
	}
	var errs FieldErrors
	errs = append(errs, validateLabels("spec.template.metadata.labels", t.Labels)...)
	errs = append(errs, validatePodSpec("spec.template.spec", &t.Spec)...)
	if t.Spec.RestartPolicy != RestartAlways {
		errs = append(errs, &FieldError{Path: "spec.template.spec.restartPolicy", Value: string(t.Spec.RestartPolicy),
			Detail: "must be Always: a replica that exits is restarted, not replaced"})
	}
	if t.Name != "" {
		errs = append(errs, &FieldError{Path: "spec.template.metadata.name", Value: t.Name,
			Detail: "must be empty: the controller names its pods <name>-<random>"})
	}
	sel, err := PodSelector(owner)
	if err != nil {
		return errs
	}
	if reqs, ok := sel.Requirements(); ok && len(reqs) > 0 && !sel.Matches(labels.Set(t.Labels)) {
		errs = append(errs, &FieldError{Path: "spec.template.metadata.labels", Value: labels.Set(t.Labels).String(),
			Detail: "`selector` does not match template `labels` (" + sel.String() + ")"})
	}
	return errs
}

// IsReplicated tells whether obj is a ReplicationController or a ReplicaSet.
func IsReplicated(obj Object) bool {
	switch obj.(type) {
	case *ReplicationController, *ReplicaSet:
		return true
	}
	return false
}
