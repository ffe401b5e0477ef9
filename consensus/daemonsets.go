package consensus

import (
	"reflect"
	"sort"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// DaemonSets are stored on their own (not beside RCs and ReplicaSets:
// they have no replicas to scale, and a status of their own); the
// leader's daemon set controller (agent/controllers/daemonset.go) makes
// their pods through the ordinary pod commands.

// ApplyDaemonSet creates a DaemonSet, or replaces the stored one's spec,
// labels and annotations (the generation moves when the spec changed).
// Create refuses an existing name (POST).
type ApplyDaemonSet struct {
	DaemonSet api.DaemonSet `json:"daemonSet"`
	Create    bool          `json:"create,omitempty"`
	UID       api.UID       `json:"uid"` // used only when the DaemonSet is created
	Time      time.Time     `json:"time"`
}

// DeleteDaemonSet removes a DaemonSet. Without Orphan the pods it
// controls go with it in the same entry; with Orphan they stay and lose
// their controller reference.
type DeleteDaemonSet struct {
	Namespace string  `json:"namespace"`
	Name      string  `json:"name"`
	UID       api.UID `json:"uid,omitempty"`
	Orphan    bool    `json:"orphan,omitempty"`
}

// UpdateDaemonSetStatus records what the leader's daemon set controller
// counted.
type UpdateDaemonSetStatus struct {
	Namespace string              `json:"namespace"`
	Name      string              `json:"name"`
	UID       api.UID             `json:"uid"`
	Status    api.DaemonSetStatus `json:"status"`
}

// Type implements Command.
func (ApplyDaemonSet) Type() string { return "ApplyDaemonSet" }

// Type implements Command.
func (DeleteDaemonSet) Type() string { return "DeleteDaemonSet" }

// Type implements Command.
func (UpdateDaemonSetStatus) Type() string { return "UpdateDaemonSetStatus" }

func copyDaemonSet(ds *api.DaemonSet) *api.DaemonSet {
	out := &api.DaemonSet{}
	mustRoundTrip(ds, out)
	return out
}

func (s *state) putDaemonSet(ds *api.DaemonSet) {
	if s.DaemonSets == nil {
		s.DaemonSets = map[string]*api.DaemonSet{}
	}
	key := api.Key(ds.Namespace, ds.Name)
	s.DaemonSets[key] = ds
	s.touch(KindDaemonSet, key)
}

func (s *state) applyDaemonSet(index uint64, c *ApplyDaemonSet) (*Result, error) {
	in := copyDaemonSet(&c.DaemonSet)
	api.Default(in)
	ns, name := in.Namespace, in.Name
	if err := api.ValidateDaemonSet(in); err != nil {
		return nil, &InvalidError{Kind: api.KindDaemonSet, Namespace: ns, Name: name, Fields: api.AsFieldErrors(err)}
	}
	key := api.Key(ns, name)
	old, exists := s.DaemonSets[key]
	if exists && c.Create {
		return nil, &AlreadyExistsError{Kind: api.KindDaemonSet, Namespace: ns, Name: name}
	}
	if !exists {
		if c.UID == "" {
			return nil, &InvalidError{Kind: api.KindDaemonSet, Namespace: ns, Name: name,
				Fields: api.FieldErrors{{Path: "metadata.uid", Detail: "required: the leader must choose the UID"}}}
		}
		in.UID = c.UID
		in.ResourceVersion = rv(index)
		in.Generation = 1
		in.CreationTimestamp = api.TimeOf(c.Time)
		in.DeletionTimestamp = nil
		// Status belongs to the controller, whatever the manifest said.
		in.Status = api.DaemonSetStatus{}
		s.putDaemonSet(in)
		return &Result{Index: index, DaemonSet: copyDaemonSet(in), Changed: true, Created: true}, nil
	}
	if in.UID != "" && in.UID != old.UID {
		return nil, &ConflictError{Kind: api.KindDaemonSet, Namespace: ns, Name: name,
			Reason: string("metadata.uid " + in.UID + " does not match the stored object's " + old.UID)}
	}
	if v := in.ResourceVersion; v != "" && v != old.ResourceVersion {
		return nil, &ConflictError{Kind: api.KindDaemonSet, Namespace: ns, Name: name,
			Reason: "the object has been modified (resourceVersion " + v + ", now " + old.ResourceVersion + "); read it again and retry"}
	}
	// As in Kubernetes' apps/v1: the selector decides which pods are the
	// DaemonSet's, so it cannot move under them.
	if !reflect.DeepEqual(toGeneric(old.Spec.Selector), toGeneric(in.Spec.Selector)) {
		return nil, &InvalidError{Kind: api.KindDaemonSet, Namespace: ns, Name: name,
			Fields: api.FieldErrors{{Path: "spec.selector", Detail: "field is immutable"}}}
	}
	specChanged := !reflect.DeepEqual(toGeneric(old.Spec), toGeneric(in.Spec))
	metaChanged := !equalStringMaps(old.Labels, in.Labels) || !equalStringMaps(old.Annotations, in.Annotations)
	if !specChanged && !metaChanged {
		return &Result{Index: index, DaemonSet: copyDaemonSet(old)}, nil
	}
	out := copyDaemonSet(old)
	out.Spec = in.Spec
	out.Labels, out.Annotations = in.Labels, in.Annotations
	if specChanged {
		out.Generation++
	}
	out.ResourceVersion = rv(index)
	s.putDaemonSet(out)
	return &Result{Index: index, DaemonSet: copyDaemonSet(out), Changed: true}, nil
}

func (s *state) deleteDaemonSet(index uint64, c *DeleteDaemonSet) (*Result, error) {
	key := api.Key(c.Namespace, c.Name)
	old, ok := s.DaemonSets[key]
	if !ok {
		return nil, &NotFoundError{Kind: api.KindDaemonSet, Namespace: c.Namespace, Name: c.Name}
	}
	if c.UID != "" && c.UID != old.UID {
		return nil, &ConflictError{Kind: api.KindDaemonSet, Namespace: c.Namespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored object has " + old.UID)}
	}
	for _, pk := range s.sortedPodKeys() {
		p := s.Pods[pk]
		ref := api.ControllerOf(p)
		if ref == nil || ref.UID != old.UID {
			continue
		}
		if !c.Orphan {
			s.removePod(pk)
			continue
		}
		p = copyPod(p)
		var refs []api.OwnerReference
		for _, r := range p.OwnerReferences {
			if r.UID != old.UID {
				refs = append(refs, r)
			}
		}
		p.OwnerReferences = refs
		p.ResourceVersion = rv(index)
		s.putPod(pk, p)
	}
	s.deleteRevisionsOf(old.UID) // controllerrevisions.go
	delete(s.DaemonSets, key)
	s.touch(KindDaemonSet, key)
	return &Result{Index: index, DaemonSet: copyDaemonSet(old), Changed: true}, nil
}

func (s *state) updateDaemonSetStatus(index uint64, c *UpdateDaemonSetStatus) (*Result, error) {
	old, ok := s.DaemonSets[api.Key(c.Namespace, c.Name)]
	if !ok {
		return nil, &NotFoundError{Kind: api.KindDaemonSet, Namespace: c.Namespace, Name: c.Name}
	}
	if c.UID != old.UID {
		return nil, &ConflictError{Kind: api.KindDaemonSet, Namespace: c.Namespace, Name: c.Name,
			Reason: string("uid " + c.UID + " does not match the stored object's " + old.UID)}
	}
	if reflect.DeepEqual(toGeneric(old.Status), toGeneric(c.Status)) {
		return &Result{Index: index, DaemonSet: copyDaemonSet(old)}, nil
	}
	out := copyDaemonSet(old)
	out.Status = c.Status
	out.ResourceVersion = rv(index)
	s.putDaemonSet(out)
	return &Result{Index: index, DaemonSet: copyDaemonSet(out), Changed: true}, nil
}

// daemonSetHolds tells whether the stored DaemonSet ns/name has uid: a
// pod is created for, or adopted by, only a DaemonSet that exists
// (controllerGone).
func (s *state) daemonSetHolds(ns, name string, uid api.UID) bool {
	ds, ok := s.DaemonSets[api.Key(ns, name)]
	return ok && ds.UID == uid
}

// DaemonSet returns a copy of one DaemonSet, or a NotFoundError.
func (f *FSM) DaemonSet(namespace, name string) (*api.DaemonSet, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	ds, ok := f.st.DaemonSets[api.Key(namespace, name)]
	if !ok {
		return nil, &NotFoundError{Kind: api.KindDaemonSet, Namespace: namespace, Name: name}
	}
	return copyDaemonSet(ds), nil
}

// DaemonSets returns copies of the DaemonSets filter accepts (all with a
// nil filter), sorted by namespace and name, and the index they were read
// at.
func (f *FSM) DaemonSets(filter func(*api.DaemonSet) bool) ([]*api.DaemonSet, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	keys := make([]string, 0, len(f.st.DaemonSets))
	for k := range f.st.DaemonSets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*api.DaemonSet
	for _, k := range keys {
		if ds := f.st.DaemonSets[k]; filter == nil || filter(ds) {
			out = append(out, copyDaemonSet(ds))
		}
	}
	return out, f.st.Index
}
