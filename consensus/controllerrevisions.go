package consensus

import (
	"bytes"
	"reflect"
	"sort"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// ControllerRevisions are a DaemonSet's template history: the leader's
// daemon set controller writes them, kubectl rollout history and undo read
// them. Deleting a DaemonSet deletes its revisions (DeleteDaemonSet).

// PutControllerRevision creates a ControllerRevision, or replaces the
// stored one's revision number, labels and annotations (its data, the
// template it records, never changes: a new template is a new revision).
type PutControllerRevision struct {
	Revision api.ControllerRevision `json:"controllerRevision"`
	UID      api.UID                `json:"uid"` // used only when it is created
	Time     time.Time              `json:"time"`
}

// DeleteControllerRevision removes a ControllerRevision; a non-empty UID
// must match the stored one.
type DeleteControllerRevision struct {
	Namespace string  `json:"namespace"`
	Name      string  `json:"name"`
	UID       api.UID `json:"uid,omitempty"`
}

// Type implements Command.
func (PutControllerRevision) Type() string { return "PutControllerRevision" }

// Type implements Command.
func (DeleteControllerRevision) Type() string { return "DeleteControllerRevision" }

func copyControllerRevision(cr *api.ControllerRevision) *api.ControllerRevision {
	out := &api.ControllerRevision{}
	mustRoundTrip(cr, out)
	return out
}

func (s *state) putControllerRevision(index uint64, c *PutControllerRevision) (*Result, error) {
	in := copyControllerRevision(&c.Revision)
	api.Default(in)
	ns, name := in.Namespace, in.Name
	if err := api.ValidateControllerRevision(in); err != nil {
		return nil, &InvalidError{Kind: api.KindControllerRevision, Namespace: ns, Name: name, Fields: api.AsFieldErrors(err)}
	}
	key := api.Key(ns, name)
	old, exists := s.ControllerRevisions[key]
	if !exists {
		if c.UID == "" {
			return nil, &InvalidError{Kind: api.KindControllerRevision, Namespace: ns, Name: name,
				Fields: api.FieldErrors{{Path: "metadata.uid", Detail: "required: the leader must choose the UID"}}}
		}
		// A revision of a DaemonSet the state no longer holds would be
		// left behind for good.
		if ref := api.ControllerOfMeta(&in.ObjectMeta); ref != nil && ref.Kind == api.KindDaemonSet && !s.daemonSetHolds(ns, ref.Name, ref.UID) {
			return nil, &ConflictError{Kind: api.KindControllerRevision, Namespace: ns, Name: name,
				Reason: "its controller DaemonSet " + ref.Name + " (uid " + string(ref.UID) + ") no longer exists"}
		}
		in.UID = c.UID
		in.ResourceVersion = rv(index)
		in.Generation = 0
		in.CreationTimestamp = api.TimeOf(c.Time)
		in.DeletionTimestamp = nil
		if s.ControllerRevisions == nil {
			s.ControllerRevisions = map[string]*api.ControllerRevision{}
		}
		s.ControllerRevisions[key] = in
		s.touch(KindControllerRevision, key)
		return &Result{Index: index, ControllerRevision: copyControllerRevision(in), Changed: true, Created: true}, nil
	}
	if in.UID != "" && in.UID != old.UID {
		return nil, &ConflictError{Kind: api.KindControllerRevision, Namespace: ns, Name: name,
			Reason: string("metadata.uid " + in.UID + " does not match the stored object's " + old.UID)}
	}
	if v := in.ResourceVersion; v != "" && v != old.ResourceVersion {
		return nil, &ConflictError{Kind: api.KindControllerRevision, Namespace: ns, Name: name,
			Reason: "the object has been modified (resourceVersion " + v + ", now " + old.ResourceVersion + "); read it again and retry"}
	}
	if !bytes.Equal(old.Data.Raw, in.Data.Raw) {
		return nil, &InvalidError{Kind: api.KindControllerRevision, Namespace: ns, Name: name,
			Fields: api.FieldErrors{{Path: "data", Detail: "field is immutable"}}}
	}
	if old.Revision == in.Revision && equalStringMaps(old.Labels, in.Labels) && equalStringMaps(old.Annotations, in.Annotations) &&
		reflect.DeepEqual(old.OwnerReferences, in.OwnerReferences) {
		return &Result{Index: index, ControllerRevision: copyControllerRevision(old)}, nil
	}
	out := copyControllerRevision(old)
	out.Revision = in.Revision
	out.Labels, out.Annotations, out.OwnerReferences = in.Labels, in.Annotations, in.OwnerReferences
	out.ResourceVersion = rv(index)
	s.ControllerRevisions[key] = out
	s.touch(KindControllerRevision, key)
	return &Result{Index: index, ControllerRevision: copyControllerRevision(out), Changed: true}, nil
}

func (s *state) deleteControllerRevision(index uint64, c *DeleteControllerRevision) (*Result, error) {
	key := api.Key(c.Namespace, c.Name)
	old, ok := s.ControllerRevisions[key]
	if !ok {
		return nil, &NotFoundError{Kind: api.KindControllerRevision, Namespace: c.Namespace, Name: c.Name}
	}
	if c.UID != "" && c.UID != old.UID {
		return nil, &ConflictError{Kind: api.KindControllerRevision, Namespace: c.Namespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored object has " + old.UID)}
	}
	delete(s.ControllerRevisions, key)
	s.touch(KindControllerRevision, key)
	return &Result{Index: index, ControllerRevision: copyControllerRevision(old), Changed: true}, nil
}

// deleteRevisionsOf removes the ControllerRevisions controlled by uid, in
// the entry that deletes their owner.
func (s *state) deleteRevisionsOf(uid api.UID) {
	keys := make([]string, 0, len(s.ControllerRevisions))
	for k := range s.ControllerRevisions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if ref := api.ControllerOfMeta(&s.ControllerRevisions[k].ObjectMeta); ref != nil && ref.UID == uid {
			delete(s.ControllerRevisions, k)
			s.touch(KindControllerRevision, k)
		}
	}
}

// ControllerRevision returns a copy of one ControllerRevision, or a
// NotFoundError.
func (f *FSM) ControllerRevision(namespace, name string) (*api.ControllerRevision, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	cr, ok := f.st.ControllerRevisions[api.Key(namespace, name)]
	if !ok {
		return nil, &NotFoundError{Kind: api.KindControllerRevision, Namespace: namespace, Name: name}
	}
	return copyControllerRevision(cr), nil
}

// ControllerRevisions returns copies of the ControllerRevisions filter
// accepts (all with a nil filter), sorted by namespace and name, and the
// index they were read at.
func (f *FSM) ControllerRevisions(filter func(*api.ControllerRevision) bool) ([]*api.ControllerRevision, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	keys := make([]string, 0, len(f.st.ControllerRevisions))
	for k := range f.st.ControllerRevisions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*api.ControllerRevision
	for _, k := range keys {
		if cr := f.st.ControllerRevisions[k]; filter == nil || filter(cr) {
			out = append(out, copyControllerRevision(cr))
		}
	}
	return out, f.st.Index
}
