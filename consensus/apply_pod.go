package consensus

import (
	"fmt"
	"reflect"
	"time"

	"github.com/shoal-dev/shoal/api"
)

func (s *state) createPod(index uint64, in *api.Pod, uid api.UID, t time.Time) (*Result, error) {
	p, err := s.createPodStored(index, in, uid, t)
	if err != nil {
		return nil, err
	}
	return &Result{Index: index, Pod: copyPod(p), Changed: true, Created: true}, nil
}

// createPodStored is createPod without the copy for the caller: CreatePods
// (pod_batch.go) creates many and answers only whether each was created.
func (s *state) createPodStored(index uint64, in *api.Pod, uid api.UID, t time.Time) (*api.Pod, error) {
	p := copyPod(in)
	api.Default(p)
	ns, name := p.ObjectMeta.Namespace, p.ObjectMeta.Name
	if err := api.ValidatePod(p); err != nil {
		return nil, &InvalidError{Kind: kindPod, Namespace: ns, Name: name, Fields: api.AsFieldErrors(err)}
	}
	if uid == "" {
		return nil, &InvalidError{Kind: kindPod, Namespace: ns, Name: name,
			Fields: api.FieldErrors{{Path: "metadata.uid", Detail: "required: the leader must choose the UID"}}}
	}
	if err := s.controllerGone(p, nil); err != nil {
		return nil, err
	}
	if err := s.admitServiceAccount(p); err != nil { // serviceaccounts.go
		return nil, err
	}
	key := api.Key(ns, name)
	if _, exists := s.Pods[key]; exists {
		return nil, &AlreadyExistsError{Kind: kindPod, Namespace: ns, Name: name}
	}
	p.ObjectMeta.UID = api.UID(uid)
	p.ObjectMeta.ResourceVersion = rv(index)
	p.ObjectMeta.Generation = 1
	p.ObjectMeta.CreationTimestamp = api.TimeOf(t)
	p.ObjectMeta.DeletionTimestamp = nil
	// Status is read-only for users: a new pod starts pending, whatever the
	// manifest said.
	p.Status = api.PodStatus{Phase: api.PodPending}
	s.putPod(key, p)
	return p, nil
}

func (s *state) applyPod(index uint64, c *ApplyPod) (*Result, error) {
	in := copyPod(&c.Pod)
	api.Default(in)
	ns, name := in.ObjectMeta.Namespace, in.ObjectMeta.Name
	old, exists := s.Pods[api.Key(ns, name)]
	if !exists {
		return s.createPod(index, in, c.UID, c.Time)
	}
	if err := api.ValidatePod(in); err != nil {
		return nil, &InvalidError{Kind: kindPod, Namespace: ns, Name: name, Fields: api.AsFieldErrors(err)}
	}
	if in.ObjectMeta.UID != "" && in.ObjectMeta.UID != old.ObjectMeta.UID {
		return nil, &ConflictError{Kind: kindPod, Namespace: ns, Name: name,
			Reason: string("metadata.uid " + in.ObjectMeta.UID + " does not match the stored pod's " + old.ObjectMeta.UID)}
	}
	if v := in.ObjectMeta.ResourceVersion; v != "" && v != old.ObjectMeta.ResourceVersion {
		return nil, &ConflictError{Kind: kindPod, Namespace: ns, Name: name,
			Reason: "the object has been modified (resourceVersion " + v + ", now " + old.ObjectMeta.ResourceVersion + "); read it again and retry"}
	}
	if err := s.controllerGone(in, old); err != nil {
		return nil, err
	}
	// A manifest does not carry the binding; its absence is not a change.
	if in.Spec.NodeName == "" {
		in.Spec.NodeName = old.Spec.NodeName
	}
	// Nor the ServiceAccount admission filled in at create.
	if in.Spec.ServiceAccountName == "" && in.Spec.DeprecatedServiceAccount == "" {
		in.Spec.ServiceAccountName = old.Spec.ServiceAccountName
	}
	sa := api.PodServiceAccount(&in.Spec)
	in.Spec.ServiceAccountName, in.Spec.DeprecatedServiceAccount = sa, sa
	if fe := immutableSpecChange(&old.Spec, &in.Spec); fe != nil {
		return nil, &InvalidError{Kind: kindPod, Namespace: ns, Name: name, Fields: api.FieldErrors{fe}}
	}
	specChanged := firstDiff("spec", toGeneric(old.Spec), toGeneric(in.Spec)) != ""
	metaChanged := !equalStringMaps(old.ObjectMeta.Labels, in.ObjectMeta.Labels) ||
		!equalStringMaps(old.ObjectMeta.Annotations, in.ObjectMeta.Annotations) ||
		!reflect.DeepEqual(old.ObjectMeta.OwnerReferences, in.ObjectMeta.OwnerReferences)
	managed, managedChanged := managedFieldsAfter(old.ObjectMeta.ManagedFields, in.ObjectMeta.ManagedFields)
	metaChanged = metaChanged || managedChanged
	if !specChanged && !metaChanged {
		return &Result{Index: index, Pod: copyPod(old)}, nil
	}
	p := copyPod(old)
	p.ObjectMeta.Labels = in.ObjectMeta.Labels
	p.ObjectMeta.Annotations = in.ObjectMeta.Annotations
	p.ObjectMeta.OwnerReferences = in.ObjectMeta.OwnerReferences
	p.ObjectMeta.ManagedFields = managed
	if specChanged {
		p.Spec = in.Spec
		p.ObjectMeta.Generation++
	}
	p.ObjectMeta.ResourceVersion = rv(index)
	s.putPod(api.KeyOf(p), p)
	return &Result{Index: index, Pod: copyPod(p), Changed: true}, nil
}

// controllerGone refuses a pod that a controller this state does not hold
// would newly control (created for it, or adopted by it): the leader's
// replication pass reads controllers and pods apart, and a pass that read
// an RC just before its delete would otherwise create or adopt a pod for
// it, one that nothing removes then (seen: an orphaning delete undone by
// an adoption a moment later). Only the kinds shoal stores are checked;
// old is nil on create.
func (s *state) controllerGone(p, old *api.Pod) error {
	ref := api.ControllerOf(p)
	if ref == nil {
		return nil
	}
	if old != nil {
		if was := api.ControllerOf(old); was != nil && was.UID == ref.UID {
			return nil
		}
	}
	switch ref.Kind {
	case api.KindReplicationController, api.KindReplicaSet, api.KindDeployment:
		if c, ok := s.controller(ref.Kind, p.ObjectMeta.Namespace, ref.Name); ok && api.MetaOf(c).UID == ref.UID {
			return nil
		}
	case api.KindJob:
		if s.jobHolds(p.ObjectMeta.Namespace, ref) {
			return nil
		}
	case api.KindDaemonSet:
		if s.daemonSetHolds(p.ObjectMeta.Namespace, ref.Name, ref.UID) {
			return nil
		}
	default:
		return nil
	}
	return &ConflictError{Kind: kindPod, Namespace: p.ObjectMeta.Namespace, Name: p.ObjectMeta.Name,
		Reason: fmt.Sprintf("its controller %s %s (uid %s) no longer exists", ref.Kind, ref.Name, ref.UID)}
}

func equalStringMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func (s *state) deletePod(index uint64, c *DeletePod) (*Result, error) {
	key := api.Key(c.Namespace, c.Name)
	p, ok := s.Pods[key]
	if !ok {
		return nil, &NotFoundError{Kind: kindPod, Namespace: c.Namespace, Name: c.Name}
	}
	if c.UID != "" && c.UID != p.ObjectMeta.UID {
		return nil, &ConflictError{Kind: kindPod, Namespace: c.Namespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored pod has " + p.ObjectMeta.UID)}
	}
	s.removePod(key)
	return &Result{Index: index, Changed: true}, nil
}

// lookupPod finds the pod a command names and checks its UID.
func (s *state) lookupPod(ns, name string, uid api.UID) (*api.Pod, error) {
	p, ok := s.Pods[api.Key(ns, name)]
	if !ok {
		return nil, &NotFoundError{Kind: kindPod, Namespace: ns, Name: name}
	}
	if uid != p.ObjectMeta.UID {
		return nil, &ConflictError{Kind: kindPod, Namespace: ns, Name: name,
			Reason: string("uid " + uid + " does not match the stored pod's " + p.ObjectMeta.UID + " (the pod was replaced)")}
	}
	return p, nil
}

func (s *state) setPodUnschedulable(index uint64, c *SetPodUnschedulable) (*Result, error) {
	old, err := s.lookupPod(c.Namespace, c.Name, c.UID)
	if err != nil {
		return nil, err
	}
	if Bound(old) {
		return nil, &ConflictError{Kind: kindPod, Namespace: c.Namespace, Name: c.Name,
			Reason: "already bound to node " + old.Spec.NodeName}
	}
	if cur := podCondition(old, condPodScheduled); cur != nil && cur.Status == condFalse && cur.Message == c.Message {
		// The placement loop retries; the same answer is not news.
		return &Result{Index: index, Pod: copyPod(old)}, nil
	}
	p := copyPod(old)
	setPodCondition(p, api.PodCondition{Type: condPodScheduled, Status: condFalse,
		Reason: "Unschedulable", Message: c.Message, LastTransitionTime: api.TimeOf(c.Time)})
	p.ObjectMeta.ResourceVersion = rv(index)
	s.putPod(api.KeyOf(p), p)
	return &Result{Index: index, Pod: copyPod(p), Changed: true}, nil
}

func (s *state) updatePodStatus(index uint64, c *UpdatePodStatus) (*Result, error) {
	old, err := s.lookupPod(c.Namespace, c.Name, c.UID)
	if err != nil {
		return nil, err
	}
	if !Bound(old) || old.Spec.NodeName != c.Node {
		where := "not bound to any node"
		if Bound(old) {
			where = "bound to node " + old.Spec.NodeName
		}
		return nil, &ConflictError{Kind: kindPod, Namespace: c.Namespace, Name: c.Name,
			Reason: "status from node " + c.Node + " refused: the pod is " + where}
	}
	if Terminal(old) && c.Status.Phase != old.Status.Phase {
		return nil, rejectf("pod %s/%s already finished (%s); it cannot become %s",
			c.Namespace, c.Name, old.Status.Phase, c.Status.Phase)
	}
	p := copyPod(old)
	st := c.Status
	// The binding owns addresses and PodScheduled; a node reports the rest.
	st.PodIP, st.PodIPs, st.HostIP = old.Status.PodIP, old.Status.PodIPs, old.Status.HostIP
	var conds []api.PodCondition
	for _, cond := range st.Conditions {
		if cond.Type != condPodScheduled {
			conds = append(conds, cond)
		}
	}
	if sc := podCondition(old, condPodScheduled); sc != nil {
		conds = append([]api.PodCondition{*sc}, conds...)
	}
	st.Conditions = conds
	p.Status = st
	p.ObjectMeta.ResourceVersion = rv(index)
	s.putPod(api.KeyOf(p), p)
	return &Result{Index: index, Pod: copyPod(p), Changed: true}, nil
}
