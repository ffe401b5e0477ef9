package consensus

import (
	"fmt"
	"reflect"

	"github.com/shoal-dev/shoal/api"
)

func (s *state) applyController(index uint64, c *ApplyController) (*Result, error) {
	var in api.Replicated
	switch {
	case c.RC != nil && c.RS == nil && c.Deploy == nil:
		in = CopyReplicated(c.RC)
	case c.RS != nil && c.RC == nil && c.Deploy == nil:
		in = CopyReplicated(c.RS)
	case c.Deploy != nil && c.RC == nil && c.RS == nil:
		in = CopyReplicated(c.Deploy)
	default:
		return nil, rejectf("apply controller: exactly one of rc, rs and deployment must be set")
	}
	api.Default(in)
	meta := api.MetaOf(in)
	kind := api.TypeMetaOf(in).Kind
	ns, name := meta.Namespace, meta.Name
	if err := api.ValidateReplicated(in); err != nil {
		return nil, &InvalidError{Kind: kind, Namespace: ns, Name: name, Fields: api.AsFieldErrors(err)}
	}
	old, exists := s.controller(kind, ns, name)
	if exists && c.Create {
		return nil, &AlreadyExistsError{Kind: kind, Namespace: ns, Name: name}
	}
	if !exists {
		if c.UID == "" {
			return nil, &InvalidError{Kind: kind, Namespace: ns, Name: name,
				Fields: api.FieldErrors{{Path: "metadata.uid", Detail: "required: the leader must choose the UID"}}}
		}
		// A Deployment pass that read its Deployment just before a delete
		// (or its namespace's finalize) would otherwise make a ReplicaSet
		// that nothing removes, and pods for it (seen in e2e: a deleted
		// namespace's ReplicaSet back a moment later).
		if ref := api.ControllerOfMeta(meta); ref != nil && ref.Kind == api.KindDeployment {
			if d, ok := s.controller(api.KindDeployment, ns, ref.Name); !ok || api.MetaOf(d).UID != ref.UID {
				return nil, &ConflictError{Kind: kind, Namespace: ns, Name: name,
					Reason: fmt.Sprintf("its controller %s %s (uid %s) no longer exists", ref.Kind, ref.Name, ref.UID)}
			}
		}
		meta.UID = api.UID(c.UID)
		meta.ResourceVersion = rv(index)
		meta.Generation = 1
		meta.CreationTimestamp = api.TimeOf(c.Time)
		meta.DeletionTimestamp = nil
		// Status belongs to the controller, whatever the manifest said.
		api.SetReplicaStatus(in, api.ReplicaCounts{})
		s.putController(in)
		return &Result{Index: index, Controller: CopyReplicated(in), Changed: true, Created: true}, nil
	}
	om := api.MetaOf(old)
	if meta.UID != "" && meta.UID != om.UID {
		return nil, &ConflictError{Kind: kind, Namespace: ns, Name: name,
			Reason: string("metadata.uid " + meta.UID + " does not match the stored object's " + om.UID)}
	}
	if v := meta.ResourceVersion; v != "" && v != om.ResourceVersion {
		return nil, &ConflictError{Kind: kind, Namespace: ns, Name: name,
			Reason: "the object has been modified (resourceVersion " + v + ", now " + om.ResourceVersion + "); read it again and retry"}
	}
	specChanged := !reflect.DeepEqual(specOf(old), specOf(in))
	managed, managedChanged := managedFieldsAfter(om.ManagedFields, meta.ManagedFields)
	metaChanged := !equalStringMaps(om.Labels, meta.Labels) || !equalStringMaps(om.Annotations, meta.Annotations) || managedChanged
	if !specChanged && !metaChanged {
		return &Result{Index: index, Controller: CopyReplicated(old)}, nil
	}
	out := CopyReplicated(old)
	setSpec(out, in)
	m := api.MetaOf(out)
	m.Labels, m.Annotations, m.ManagedFields = meta.Labels, meta.Annotations, managed
	if specChanged {
		m.Generation++
	}
	m.ResourceVersion = rv(index)
	s.putController(out)
	return &Result{Index: index, Controller: CopyReplicated(out), Changed: true}, nil
}

// specOf returns the spec as generic JSON so RC and ReplicaSet compare alike.
func specOf(obj api.Replicated) any {
	switch o := obj.(type) {
	case *api.ReplicationController:
		return toGeneric(o.Spec)
	case *api.ReplicaSet:
		return toGeneric(o.Spec)
	case *api.Deployment:
		return toGeneric(o.Spec)
	}
	return nil
}

func setSpec(dst, src api.Replicated) {
	switch d := dst.(type) {
	case *api.ReplicationController:
		d.Spec = src.(*api.ReplicationController).Spec
	case *api.ReplicaSet:
		d.Spec = src.(*api.ReplicaSet).Spec
	case *api.Deployment:
		d.Spec = src.(*api.Deployment).Spec
	}
}

func (s *state) deleteController(index uint64, c *DeleteController) (*Result, error) {
	obj, ok := s.controller(c.Kind, c.Namespace, c.Name)
	if !ok {
		return nil, &NotFoundError{Kind: c.Kind, Namespace: c.Namespace, Name: c.Name}
	}
	uid := api.MetaOf(obj).UID
	if c.UID != "" && c.UID != uid {
		return nil, &ConflictError{Kind: c.Kind, Namespace: c.Namespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored object has " + uid)}
	}
	if c.Kind == api.KindDeployment {
		s.deleteDeploymentReplicaSets(index, uid, c.Orphan)
	}
	for _, key := range s.sortedPodKeys() {
		p := s.Pods[key]
		ref := api.ControllerOf(p)
		if ref == nil || ref.UID != uid {
			continue
		}
		if !c.Orphan {
			s.removePod(key)
			continue
		}
		p = copyPod(p)
		var refs []api.OwnerReference
		for _, r := range p.ObjectMeta.OwnerReferences {
			if r.UID != uid {
				refs = append(refs, r)
			}
		}
		p.ObjectMeta.OwnerReferences = refs
		p.ObjectMeta.ResourceVersion = rv(index)
		s.putPod(key, p)
	}
	s.removeController(c.Kind, c.Namespace, c.Name)
	return &Result{Index: index, Controller: CopyReplicated(obj), Changed: true}, nil
}

func (s *state) scaleController(index uint64, c *ScaleController) (*Result, error) {
	obj, ok := s.controller(c.Kind, c.Namespace, c.Name)
	if !ok {
		return nil, &NotFoundError{Kind: c.Kind, Namespace: c.Namespace, Name: c.Name}
	}
	if c.Replicas < 0 {
		return nil, &InvalidError{Kind: c.Kind, Namespace: c.Namespace, Name: c.Name,
			Fields: api.FieldErrors{{Path: "spec.replicas", Value: fmt.Sprint(c.Replicas), Detail: "must be greater than or equal to 0"}}}
	}
	m := api.MetaOf(obj)
	if c.ResourceVersion != "" && c.ResourceVersion != m.ResourceVersion {
		return nil, &ConflictError{Kind: c.Kind, Namespace: c.Namespace, Name: c.Name,
			Reason: "the object has been modified (resourceVersion " + c.ResourceVersion + ", now " + m.ResourceVersion + "); read it again and retry"}
	}
	if api.DesiredReplicas(obj) == c.Replicas {
		return &Result{Index: index, Controller: CopyReplicated(obj)}, nil
	}
	out := CopyReplicated(obj)
	api.SetDesiredReplicas(out, c.Replicas)
	api.MetaOf(out).Generation++
	api.MetaOf(out).ResourceVersion = rv(index)
	s.putController(out)
	return &Result{Index: index, Controller: CopyReplicated(out), Changed: true}, nil
}

func (s *state) updateControllerStatus(index uint64, c *UpdateControllerStatus) (*Result, error) {
	obj, ok := s.controller(c.Kind, c.Namespace, c.Name)
	if !ok {
		return nil, &NotFoundError{Kind: c.Kind, Namespace: c.Namespace, Name: c.Name}
	}
	if c.UID != api.MetaOf(obj).UID {
		return nil, &ConflictError{Kind: c.Kind, Namespace: c.Namespace, Name: c.Name,
			Reason: string("uid " + c.UID + " does not match the stored object's " + api.MetaOf(obj).UID)}
	}
	if api.ReplicaStatus(obj) == c.Status {
		return &Result{Index: index, Controller: CopyReplicated(obj)}, nil
	}
	out := CopyReplicated(obj)
	api.SetReplicaStatus(out, c.Status)
	api.MetaOf(out).ResourceVersion = rv(index)
	s.putController(out)
	return &Result{Index: index, Controller: CopyReplicated(out), Changed: true}, nil
}
