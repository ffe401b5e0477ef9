package consensus

import (
	"sort"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// Namespaces are cluster-scoped objects keyed by name. A Namespace is
// Active until DeleteNamespace marks it Terminating (deletionTimestamp
// set); the leader's namespace controller then applies FinalizeNamespace,
// which removes every object left in it and the Namespace itself in one
// entry, so no reader ever sees the Namespace gone while its content
// remains.

// ApplyNamespace creates a Namespace, or replaces the stored one's labels
// and annotations. Create refuses an existing name (POST). The phase and
// the deletion timestamp belong to the state machine, whatever the
// manifest says.
type ApplyNamespace struct {
	Namespace api.Namespace `json:"namespace"`
	Create    bool          `json:"create,omitempty"`
	UID       api.UID       `json:"uid"` // used only when the Namespace is created
	Time      time.Time     `json:"time"`
}

// DeleteNamespace starts a Namespace's deletion: phase Terminating and a
// deletion timestamp. Deleting a Terminating Namespace again changes
// nothing. The namespaces every fleet relies on (api.ImmortalNamespace)
// are refused, as in Kubernetes.
type DeleteNamespace struct {
	Name string    `json:"name"`
	UID  api.UID   `json:"uid,omitempty"`
	Time time.Time `json:"time"`
}

// FinalizeNamespace ends a Terminating Namespace's deletion: every object
// still in it goes (each as its own delete would take it, with what it
// owns), then the Namespace.
type FinalizeNamespace struct {
	Name string  `json:"name"`
	UID  api.UID `json:"uid"`
}

// Type implements Command.
func (ApplyNamespace) Type() string { return "ApplyNamespace" }

// Type implements Command.
func (DeleteNamespace) Type() string { return "DeleteNamespace" }

// Type implements Command.
func (FinalizeNamespace) Type() string { return "FinalizeNamespace" }

func copyNamespace(n *api.Namespace) *api.Namespace {
	out := &api.Namespace{}
	mustRoundTrip(n, out)
	return out
}

func (s *state) applyNamespace(index uint64, c *ApplyNamespace) (*Result, error) {
	in := copyNamespace(&c.Namespace)
	api.Default(in)
	meta := &in.ObjectMeta
	name := meta.Name
	if err := api.ValidateNamespace(in); err != nil {
		return nil, &InvalidError{Kind: api.KindNamespace, Name: name, Fields: api.AsFieldErrors(err)}
	}
	old, exists := s.Namespaces[name]
	if exists && c.Create {
		return nil, &AlreadyExistsError{Kind: api.KindNamespace, Name: name}
	}
	if !exists {
		if c.UID == "" {
			return nil, &InvalidError{Kind: api.KindNamespace, Name: name,
				Fields: api.FieldErrors{{Path: "metadata.uid", Detail: "required: the leader must choose the UID"}}}
		}
		meta.UID = c.UID
		meta.ResourceVersion = rv(index)
		meta.CreationTimestamp = api.TimeOf(c.Time)
		meta.DeletionTimestamp, meta.Generation = nil, 0
		in.Status.Phase = api.NamespaceActive
		if s.Namespaces == nil {
			s.Namespaces = map[string]*api.Namespace{}
		}
		s.Namespaces[name] = in
		s.touch(KindNamespace, name)
		return &Result{Index: index, Namespace: copyNamespace(in), Changed: true, Created: true}, nil
	}
	om := old.ObjectMeta
	if meta.UID != "" && meta.UID != om.UID {
		return nil, &ConflictError{Kind: api.KindNamespace, Name: name,
			Reason: string("metadata.uid " + meta.UID + " does not match the stored object's " + om.UID)}
	}
	if v := meta.ResourceVersion; v != "" && v != om.ResourceVersion {
		return nil, &ConflictError{Kind: api.KindNamespace, Name: name,
			Reason: "the object has been modified (resourceVersion " + v + ", now " + om.ResourceVersion + "); read it again and retry"}
	}
	managed, managedChanged := managedFieldsAfter(om.ManagedFields, meta.ManagedFields)
	if !managedChanged && equalStringMaps(om.Labels, meta.Labels) && equalStringMaps(om.Annotations, meta.Annotations) {
		return &Result{Index: index, Namespace: copyNamespace(old)}, nil
	}
	out := copyNamespace(old)
	out.ObjectMeta.Labels, out.ObjectMeta.Annotations, out.ObjectMeta.ManagedFields = meta.Labels, meta.Annotations, managed
	out.ObjectMeta.ResourceVersion = rv(index)
	s.Namespaces[name] = out
	s.touch(KindNamespace, name)
	return &Result{Index: index, Namespace: copyNamespace(out), Changed: true}, nil
}

func (s *state) deleteNamespace(index uint64, c *DeleteNamespace) (*Result, error) {
	old, ok := s.Namespaces[c.Name]
	if !ok {
		return nil, &NotFoundError{Kind: api.KindNamespace, Name: c.Name}
	}
	if c.UID != "" && c.UID != old.ObjectMeta.UID {
		return nil, &ConflictError{Kind: api.KindNamespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored object has " + old.ObjectMeta.UID)}
	}
	if api.ImmortalNamespace(c.Name) {
		return nil, &ForbiddenError{Kind: api.KindNamespace, Name: c.Name, Reason: "this namespace may not be deleted"}
	}
	if old.ObjectMeta.DeletionTimestamp != nil {
		return &Result{Index: index, Namespace: copyNamespace(old)}, nil
	}
	out := copyNamespace(old)
	t := api.TimeOf(c.Time)
	out.ObjectMeta.DeletionTimestamp = &t
	out.Status.Phase = api.NamespaceTerminating
	out.ObjectMeta.ResourceVersion = rv(index)
	s.Namespaces[c.Name] = out
	s.touch(KindNamespace, c.Name)
	return &Result{Index: index, Namespace: copyNamespace(out), Changed: true}, nil
}

func (s *state) finalizeNamespace(index uint64, c *FinalizeNamespace) (*Result, error) {
	old, ok := s.Namespaces[c.Name]
	if !ok {
		return nil, &NotFoundError{Kind: api.KindNamespace, Name: c.Name}
	}
	if c.UID != old.ObjectMeta.UID {
		return nil, &ConflictError{Kind: api.KindNamespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored object has " + old.ObjectMeta.UID)}
	}
	if old.ObjectMeta.DeletionTimestamp == nil {
		return nil, &ConflictError{Kind: api.KindNamespace, Name: c.Name, Reason: "the namespace is not being deleted"}
	}
	s.removeAllIn(index, c.Name)
	delete(s.Namespaces, c.Name)
	s.touch(KindNamespace, c.Name)
	return &Result{Index: index, Namespace: copyNamespace(old), Changed: true}, nil
}

// NamespaceAdmits is Kubernetes' NamespaceLifecycle admission for a new
// object in namespace ns: a NotFoundError when the Namespace does not
// exist (the system ones exist even before the leader has stored them),
// a ForbiddenError when it is being deleted. what is the new object's
// kind, for the message.
func (f *FSM) NamespaceAdmits(kind, name, ns string) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n, ok := f.st.Namespaces[ns]
	switch {
	case !ok && api.SystemNamespace(ns):
		return nil
	case !ok:
		return &NotFoundError{Kind: api.KindNamespace, Name: ns}
	case n.ObjectMeta.DeletionTimestamp != nil:
		return &ForbiddenError{Kind: kind, Namespace: ns, Name: name,
			Reason: "unable to create new content in namespace " + ns + " because it is being terminated"}
	}
	return nil
}

// Namespace returns a copy of one Namespace.
func (f *FSM) Namespace(name string) (*api.Namespace, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n, ok := f.st.Namespaces[name]
	if !ok {
		return nil, &NotFoundError{Kind: api.KindNamespace, Name: name}
	}
	return copyNamespace(n), nil
}

// Namespaces returns copies of the Namespaces filter accepts (all with a
// nil filter), sorted by name, and the index they were read at.
func (f *FSM) Namespaces(filter func(*api.Namespace) bool) ([]*api.Namespace, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	names := make([]string, 0, len(f.st.Namespaces))
	for k := range f.st.Namespaces {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []*api.Namespace
	for _, k := range names {
		if n := f.st.Namespaces[k]; filter == nil || filter(n) {
			out = append(out, copyNamespace(n))
		}
	}
	return out, f.st.Index
}
