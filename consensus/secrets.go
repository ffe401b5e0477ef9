package consensus

import (
	"reflect"
	"sort"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// ApplySecret creates a Secret, or replaces the stored one's type, data
// and labels. Create refuses an existing name (POST). The Secret travels in
// the log and the snapshots as it is stored: Raft's files are as sensitive
// as the Secrets themselves.
type ApplySecret struct {
	Secret api.Secret `json:"secret"`
	Create bool       `json:"create,omitempty"`
	UID    api.UID    `json:"uid"` // used only when the Secret is created
	Time   time.Time  `json:"time"`
}

// DeleteSecret removes a Secret; a non-empty UID must match the stored one.
type DeleteSecret struct {
	Namespace string  `json:"namespace"`
	Name      string  `json:"name"`
	UID       api.UID `json:"uid,omitempty"`
}

// Type implements Command.
func (ApplySecret) Type() string { return "ApplySecret" }

// Type implements Command.
func (DeleteSecret) Type() string { return "DeleteSecret" }

func copySecret(s *api.Secret) *api.Secret {
	out := &api.Secret{}
	mustRoundTrip(s, out)
	return out
}

func (s *state) applySecret(index uint64, c *ApplySecret) (*Result, error) {
	in := copySecret(&c.Secret)
	api.Default(in)
	meta := &in.ObjectMeta
	ns, name := meta.Namespace, meta.Name
	if err := api.ValidateSecret(in); err != nil {
		return nil, &InvalidError{Kind: "Secret", Namespace: ns, Name: name, Fields: api.AsFieldErrors(err)}
	}
	key := api.Key(ns, name)
	old, exists := s.Secrets[key]
	if exists && c.Create {
		return nil, &AlreadyExistsError{Kind: "Secret", Namespace: ns, Name: name}
	}
	if !exists {
		if c.UID == "" {
			return nil, &InvalidError{Kind: "Secret", Namespace: ns, Name: name,
				Fields: api.FieldErrors{{Path: "metadata.uid", Detail: "required: the leader must choose the UID"}}}
		}
		meta.UID = api.UID(c.UID)
		meta.ResourceVersion = rv(index)
		meta.CreationTimestamp = api.TimeOf(c.Time)
		meta.DeletionTimestamp, meta.Generation = nil, 0
		if s.Secrets == nil {
			s.Secrets = map[string]*api.Secret{}
		}
		s.Secrets[key] = in
		s.touch(KindSecret, key)
		return &Result{Index: index, Secret: copySecret(in), Changed: true, Created: true}, nil
	}
	om := old.ObjectMeta
	if meta.UID != "" && meta.UID != om.UID {
		return nil, &ConflictError{Kind: "Secret", Namespace: ns, Name: name,
			Reason: string("metadata.uid " + meta.UID + " does not match the stored object's " + om.UID)}
	}
	if v := meta.ResourceVersion; v != "" && v != om.ResourceVersion {
		return nil, &ConflictError{Kind: "Secret", Namespace: ns, Name: name,
			Reason: "the object has been modified (resourceVersion " + v + ", now " + om.ResourceVersion + "); read it again and retry"}
	}
	contentChanged := old.Type != in.Type || !reflect.DeepEqual(old.Data, in.Data) || !reflect.DeepEqual(old.Immutable, in.Immutable)
	if contentChanged && old.Immutable != nil && *old.Immutable {
		return nil, &InvalidError{Kind: "Secret", Namespace: ns, Name: name,
			Fields: api.FieldErrors{{Path: "data", Detail: "the Secret is immutable: delete and re-create it"}}}
	}
	managed, managedChanged := managedFieldsAfter(om.ManagedFields, in.ObjectMeta.ManagedFields)
	if !contentChanged && !managedChanged && equalStringMaps(om.Labels, in.ObjectMeta.Labels) && equalStringMaps(om.Annotations, in.ObjectMeta.Annotations) {
		return &Result{Index: index, Secret: copySecret(old)}, nil
	}
	out := copySecret(old)
	out.Type, out.Data, out.Immutable = in.Type, in.Data, in.Immutable
	out.ObjectMeta.Labels, out.ObjectMeta.Annotations, out.ObjectMeta.ManagedFields = in.ObjectMeta.Labels, in.ObjectMeta.Annotations, managed
	out.ObjectMeta.ResourceVersion = rv(index)
	s.Secrets[key] = out
	s.touch(KindSecret, key)
	return &Result{Index: index, Secret: copySecret(out), Changed: true}, nil
}

func (s *state) deleteSecret(index uint64, c *DeleteSecret) (*Result, error) {
	key := api.Key(c.Namespace, c.Name)
	old, ok := s.Secrets[key]
	if !ok {
		return nil, &NotFoundError{Kind: "Secret", Namespace: c.Namespace, Name: c.Name}
	}
	if c.UID != "" && c.UID != old.ObjectMeta.UID {
		return nil, &ConflictError{Kind: "Secret", Namespace: c.Namespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored object has " + old.ObjectMeta.UID)}
	}
	delete(s.Secrets, key)
	s.touch(KindSecret, key)
	return &Result{Index: index, Secret: copySecret(old), Changed: true}, nil
}

// Secret returns a copy of one Secret.
func (f *FSM) Secret(namespace, name string) (*api.Secret, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	sec, ok := f.st.Secrets[api.Key(namespace, name)]
	if !ok {
		return nil, &NotFoundError{Kind: "Secret", Namespace: namespace, Name: name}
	}
	return copySecret(sec), nil
}

// Secrets returns copies of the Secrets filter accepts (all with a nil
// filter), sorted by namespace and name, and the index they were read at.
func (f *FSM) Secrets(filter func(*api.Secret) bool) ([]*api.Secret, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	keys := make([]string, 0, len(f.st.Secrets))
	for k := range f.st.Secrets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*api.Secret
	for _, k := range keys {
		if sec := f.st.Secrets[k]; filter == nil || filter(sec) {
			out = append(out, copySecret(sec))
		}
	}
	return out, f.st.Index
}
