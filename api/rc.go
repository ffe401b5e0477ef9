package api

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/yaml"
)

// PodTemplateSpec is the pod a replication controller makes copies of.
type PodTemplateSpec struct {
	Metadata ObjectMeta `json:"metadata,omitempty"`
	Spec     PodSpec    `json:"spec"`
}

// ReplicationControllerSpec is what the user asks of a v1 ReplicationController.
type ReplicationControllerSpec struct {
	Replicas        *int32            `json:"replicas,omitempty"`
	MinReadySeconds int32             `json:"minReadySeconds,omitempty"`
	Selector        map[string]string `json:"selector,omitempty"`
	Template        *PodTemplateSpec  `json:"template,omitempty"`
}

// ReplicationControllerStatus is what the controller observed; ReplicaSets
// report the same fields.
type ReplicationControllerStatus struct {
	Replicas             int32 `json:"replicas"`
	FullyLabeledReplicas int32 `json:"fullyLabeledReplicas,omitempty"`
	ReadyReplicas        int32 `json:"readyReplicas,omitempty"`
	AvailableReplicas    int32 `json:"availableReplicas,omitempty"`
	ObservedGeneration   int64 `json:"observedGeneration,omitempty"`
}

// ReplicationController keeps spec.replicas pods matching its selector running.
type ReplicationController struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta                  `json:"metadata"`
	Spec     ReplicationControllerSpec   `json:"spec"`
	Status   ReplicationControllerStatus `json:"status,omitempty"`
}

// LabelSelectorRequirement is one matchExpressions entry.
type LabelSelectorRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// LabelSelector is the apps/v1 selector: matchLabels AND matchExpressions.
type LabelSelector struct {
	MatchLabels      map[string]string          `json:"matchLabels,omitempty"`
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// ReplicaSetSpec is what the user asks of an apps/v1 ReplicaSet.
type ReplicaSetSpec struct {
	Replicas        *int32           `json:"replicas,omitempty"`
	MinReadySeconds int32            `json:"minReadySeconds,omitempty"`
	Selector        *LabelSelector   `json:"selector,omitempty"`
	Template        *PodTemplateSpec `json:"template,omitempty"`
}

// ReplicaSet is the apps/v1 successor of the ReplicationController; shoal
// runs both through the same controller.
type ReplicaSet struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta                  `json:"metadata"`
	Spec     ReplicaSetSpec              `json:"spec"`
	Status   ReplicationControllerStatus `json:"status,omitempty"`
}

// ReplicationControllerList is the Kubernetes-shaped list of RCs.
type ReplicationControllerList struct {
	TypeMeta `json:",inline"`
	Metadata ListMeta                `json:"metadata"`
	Items    []ReplicationController `json:"items"`
}

// ReplicaSetList is the Kubernetes-shaped list of ReplicaSets.
type ReplicaSetList struct {
	TypeMeta `json:",inline"`
	Metadata ListMeta     `json:"metadata"`
	Items    []ReplicaSet `json:"items"`
}

// ScaleSpec is the desired replica count of a Scale.
type ScaleSpec struct {
	Replicas int32 `json:"replicas,omitempty"`
}

// ScaleStatus is the observed replica count of a Scale.
type ScaleStatus struct {
	Replicas int32  `json:"replicas"`
	Selector string `json:"selector,omitempty"`
}

// Scale is the autoscaling/v1 subresource of RCs and ReplicaSets.
type Scale struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta  `json:"metadata"`
	Spec     ScaleSpec   `json:"spec,omitempty"`
	Status   ScaleStatus `json:"status,omitempty"`
}

// Replicated is what the replication controller needs of an RC or a
// ReplicaSet, so that one controller runs both.
type Replicated interface {
	Object
	// DesiredReplicas is spec.replicas (1 when absent, as in Kubernetes).
	DesiredReplicas() int32
	SetDesiredReplicas(n int32)
	// PodTemplate is spec.template; nil only on an invalid object.
	PodTemplate() *PodTemplateSpec
	// PodSelector is the label selector the controller counts pods with.
	PodSelector() (labels.Selector, error)
	ReplicaStatus() *ReplicationControllerStatus
}

// Kinds and API versions of the replicated objects.
const (
	KindReplicationController = "ReplicationController"
	KindReplicaSet            = "ReplicaSet"
	AppsV1                    = "apps/v1"
)

// GetTypeMeta returns the RC's apiVersion and kind.
func (rc *ReplicationController) GetTypeMeta() *TypeMeta { return &rc.TypeMeta }

// GetMetadata returns the RC's metadata.
func (rc *ReplicationController) GetMetadata() *ObjectMeta { return &rc.Metadata }

// DesiredReplicas implements Replicated.
func (rc *ReplicationController) DesiredReplicas() int32 { return replicasOr1(rc.Spec.Replicas) }

// SetDesiredReplicas implements Replicated.
func (rc *ReplicationController) SetDesiredReplicas(n int32) { rc.Spec.Replicas = &n }

// PodTemplate implements Replicated.
func (rc *ReplicationController) PodTemplate() *PodTemplateSpec { return rc.Spec.Template }

// PodSelector implements Replicated: equality on every selector label. An
// empty selector selects nothing, so a broken RC never claims every pod.
func (rc *ReplicationController) PodSelector() (labels.Selector, error) {
	if len(rc.Spec.Selector) == 0 {
		return labels.Nothing(), nil
	}
	return labels.SelectorFromValidatedSet(labels.Set(rc.Spec.Selector)), nil
}

// ReplicaStatus implements Replicated.
func (rc *ReplicationController) ReplicaStatus() *ReplicationControllerStatus { return &rc.Status }

// GetTypeMeta returns the ReplicaSet's apiVersion and kind.
func (rs *ReplicaSet) GetTypeMeta() *TypeMeta { return &rs.TypeMeta }

// GetMetadata returns the ReplicaSet's metadata.
func (rs *ReplicaSet) GetMetadata() *ObjectMeta { return &rs.Metadata }

// DesiredReplicas implements Replicated.
func (rs *ReplicaSet) DesiredReplicas() int32 { return replicasOr1(rs.Spec.Replicas) }

// SetDesiredReplicas implements Replicated.
func (rs *ReplicaSet) SetDesiredReplicas(n int32) { rs.Spec.Replicas = &n }

// PodTemplate implements Replicated.
func (rs *ReplicaSet) PodTemplate() *PodTemplateSpec { return rs.Spec.Template }

// PodSelector implements Replicated.
func (rs *ReplicaSet) PodSelector() (labels.Selector, error) {
	return SelectorOf(rs.Spec.Selector)
}

// ReplicaStatus implements Replicated.
func (rs *ReplicaSet) ReplicaStatus() *ReplicationControllerStatus { return &rs.Status }

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
	for i := range p.Metadata.OwnerReferences {
		ref := &p.Metadata.OwnerReferences[i]
		if ref.Controller != nil && *ref.Controller {
			return ref
		}
	}
	return nil
}

// NewControllerRef is the owner reference a controller puts on its pods.
func NewControllerRef(owner Replicated) OwnerReference {
	yes := true
	tm := owner.GetTypeMeta()
	return OwnerReference{APIVersion: tm.APIVersion, Kind: tm.Kind, Name: owner.GetMetadata().Name,
		UID: owner.GetMetadata().UID, Controller: &yes, BlockOwnerDeletion: &yes}
}

// PodFromTemplate makes a new pod of the controller's template; the caller
// names it.
func PodFromTemplate(owner Replicated) *Pod {
	t := owner.PodTemplate()
	p := &Pod{TypeMeta: TypeMeta{APIVersion: "v1", Kind: "Pod"}}
	p.Metadata.Namespace = owner.GetMetadata().Namespace
	p.Metadata.Labels = copyMap(t.Metadata.Labels)
	p.Metadata.Annotations = copyMap(t.Metadata.Annotations)
	p.Metadata.OwnerReferences = []OwnerReference{NewControllerRef(owner)}
	p.Spec = t.Spec
	p.Spec.Containers = append([]Container(nil), t.Spec.Containers...)
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
	rc.APIVersion, rc.Kind = "v1", KindReplicationController
	if rc.Metadata.Namespace == "" {
		rc.Metadata.Namespace = DefaultNamespace
	}
	if rc.Spec.Replicas == nil {
		rc.SetDesiredReplicas(1)
	}
	if t := rc.Spec.Template; t != nil {
		// As in Kubernetes: the selector and the RC's own labels default
		// to the template's labels.
		if len(rc.Spec.Selector) == 0 {
			rc.Spec.Selector = copyMap(t.Metadata.Labels)
		}
		if len(rc.Metadata.Labels) == 0 {
			rc.Metadata.Labels = copyMap(t.Metadata.Labels)
		}
	}
	defaultTemplate(rc.Spec.Template, rc.Metadata.Namespace)
}

func defaultReplicaSet(rs *ReplicaSet) {
	rs.APIVersion, rs.Kind = AppsV1, KindReplicaSet
	if rs.Metadata.Namespace == "" {
		rs.Metadata.Namespace = DefaultNamespace
	}
	if rs.Spec.Replicas == nil {
		rs.SetDesiredReplicas(1)
	}
	if t := rs.Spec.Template; t != nil && len(rs.Metadata.Labels) == 0 {
		rs.Metadata.Labels = copyMap(t.Metadata.Labels)
	}
	defaultTemplate(rs.Spec.Template, rs.Metadata.Namespace)
}

// defaultTemplate defaults the template's pod as a pod of its own would be.
func defaultTemplate(t *PodTemplateSpec, ns string) {
	if t == nil {
		return
	}
	p := &Pod{Metadata: t.Metadata, Spec: t.Spec}
	defaultPod(p)
	t.Spec = p.Spec
}

// ValidateReplicationController checks a defaulted RC.
func ValidateReplicationController(rc *ReplicationController) error {
	errs := validateReplicatedMeta(&rc.Metadata, rc.Spec.Replicas)
	errs = append(errs, validateLabels("spec.selector", rc.Spec.Selector)...)
	if len(rc.Spec.Selector) == 0 {
		errs = append(errs, &FieldError{Path: "spec.selector", Detail: "required: give it, or labels in spec.template.metadata.labels"})
	}
	errs = append(errs, validateTemplate(rc.Spec.Template, rc)...)
	return errs.orNil()
}

// ValidateReplicaSet checks a defaulted ReplicaSet.
func ValidateReplicaSet(rs *ReplicaSet) error {
	errs := validateReplicatedMeta(&rs.Metadata, rs.Spec.Replicas)
	if rs.Spec.Selector == nil || (len(rs.Spec.Selector.MatchLabels) == 0 && len(rs.Spec.Selector.MatchExpressions) == 0) {
		errs = append(errs, &FieldError{Path: "spec.selector", Detail: "required: matchLabels or matchExpressions"})
	} else {
		errs = append(errs, validateLabels("spec.selector.matchLabels", rs.Spec.Selector.MatchLabels)...)
		if _, err := SelectorOf(rs.Spec.Selector); err != nil {
			errs = append(errs, &FieldError{Path: "spec.selector", Detail: err.Error()})
		}
	}
	errs = append(errs, validateTemplate(rs.Spec.Template, rs)...)
	return errs.orNil()
}

// ValidateReplicated validates an RC or a ReplicaSet.
func ValidateReplicated(obj Replicated) error {
	switch o := obj.(type) {
	case *ReplicationController:
		return ValidateReplicationController(o)
	case *ReplicaSet:
		return ValidateReplicaSet(o)
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
	errs = append(errs, validateLabels("spec.template.metadata.labels", t.Metadata.Labels)...)
	errs = append(errs, validatePodSpec("spec.template.spec", &t.Spec)...)
	if t.Spec.RestartPolicy != RestartAlways {
		errs = append(errs, &FieldError{Path: "spec.template.spec.restartPolicy", Value: t.Spec.RestartPolicy,
			Detail: "must be Always: a replica that exits is restarted, not replaced"})
	}
	if t.Metadata.Name != "" {
		errs = append(errs, &FieldError{Path: "spec.template.metadata.name", Value: t.Metadata.Name,
			Detail: "must be empty: the controller names its pods <name>-<random>"})
	}
	sel, err := owner.PodSelector()
	if err != nil {
		return errs
	}
	if reqs, ok := sel.Requirements(); ok && len(reqs) > 0 && !sel.Matches(labels.Set(t.Metadata.Labels)) {
		errs = append(errs, &FieldError{Path: "spec.template.metadata.labels", Value: labels.Set(t.Metadata.Labels).String(),
			Detail: "`selector` does not match template `labels` (" + sel.String() + ")"})
	}
	return errs
}

// DecodeStrict decodes one JSON or YAML document into into, naming any
// unknown field, without defaulting or validating (for subresources such
// as Scale).
func DecodeStrict(data []byte, into any) error {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	return strictUnmarshal(js, into)
}
