package consensus

import (
	"reflect"
	"sort"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// KindConfigMap is the change stream's kind of ConfigMaps (namespace/name).
const KindConfigMap = "ConfigMap"

// ApplyConfigMap creates a ConfigMap, or replaces the stored one's data,
// binaryData, immutable flag, labels, annotations and managedFields. Create refuses an
// existing name (POST).
type ApplyConfigMap struct {
	ConfigMap api.ConfigMap `json:"configMap"`
	Create    bool          `json:"create,omitempty"`
	UID       api.UID       `json:"uid"` // used only when the ConfigMap is created
	Time      time.Time     `json:"time"`
}

// DeleteConfigMap removes a ConfigMap; a non-empty UID must match the
// stored one.
type DeleteConfigMap struct {
	Namespace string  `json:"namespace"`
	Name      string  `json:"name"`
	UID       api.UID `json:"uid,omitempty"`
}

// Type implements Command.
func (ApplyConfigMap) Type() string { return "ApplyConfigMap" }

// Type implements Command.
func (DeleteConfigMap) Type() string { return "DeleteConfigMap" }

func copyConfigMap(c *api.ConfigMap) *api.ConfigMap {
	out := &api.ConfigMap{}
	mustRoundTrip(c, out)
	return out
}

func (s *state) applyConfigMap(index uint64, c *ApplyConfigMap) (*Result, error) {
	in := copyConfigMap(&c.ConfigMap)
	api.Default(in)
	meta := &in.ObjectMeta
	ns, name := meta.Namespace, meta.Name
	if err := api.ValidateConfigMap(in); err != nil {
		return nil, &InvalidError{Kind: "ConfigMap", Namespace: ns, Name: name, Fields: api.AsFieldErrors(err)}
	}
	key := api.Key(ns, name)
	old, exists := s.ConfigMaps[key]
	if exists && c.Create {
		return nil, &AlreadyExistsError{Kind: "ConfigMap", Namespace: ns, Name: name}
	}
	if !exists {
		if c.UID == "" {
			return nil, &InvalidError{Kind: "ConfigMap", Namespace: ns, Name: name,
				Fields: api.FieldErrors{{Path: "metadata.uid", Detail: "required: the leader must choose the UID"}}}
		}
		meta.UID = c.UID
		meta.ResourceVersion = rv(index)
		meta.CreationTimestamp = api.TimeOf(c.Time)
		meta.DeletionTimestamp, meta.Generation = nil, 0
		if s.ConfigMaps == nil {
			s.ConfigMaps = map[string]*api.ConfigMap{}
		}
		s.ConfigMaps[key] = in
		s.touch(KindConfigMap, key)
		return &Result{Index: index, ConfigMap: copyConfigMap(in), Changed: true, Created: true}, nil
	}
	om := old.ObjectMeta
	if meta.UID != "" && meta.UID != om.UID {
		return nil, &ConflictError{Kind: "ConfigMap", Namespace: ns, Name: name,
			Reason: string("metadata.uid " + meta.UID + " does not match the stored object's " + om.UID)}
	}
	if v := meta.ResourceVersion; v != "" && v != om.ResourceVersion {
		return nil, &ConflictError{Kind: "ConfigMap", Namespace: ns, Name: name,
			Reason: "the object has been modified (resourceVersion " + v + ", now " + om.ResourceVersion + "); read it again and retry"}
	}
	contentChanged := !reflect.DeepEqual(old.Data, in.Data) || !reflect.DeepEqual(old.BinaryData, in.BinaryData) ||
		!reflect.DeepEqual(old.Immutable, in.Immutable)
	if contentChanged && old.Immutable != nil && *old.Immutable {
		return nil, &InvalidError{Kind: "ConfigMap", Namespace: ns, Name: name,
			Fields: api.FieldErrors{{Path: "data", Detail: "field is immutable when `immutable` is set: delete and re-create the ConfigMap"}}}
	}
	managed, managedChanged := managedFieldsAfter(om.ManagedFields, in.ObjectMeta.ManagedFields)
	if !contentChanged && !managedChanged && equalStringMaps(om.Labels, in.ObjectMeta.Labels) && equalStringMaps(om.Annotations, in.ObjectMeta.Annotations) {
		return &Result{Index: index, ConfigMap: copyConfigMap(old)}, nil
	}
	out := copyConfigMap(old)
	out.Data, out.BinaryData, out.Immutable = in.Data, in.BinaryData, in.Immutable
	out.ObjectMeta.Labels, out.ObjectMeta.Annotations, out.ObjectMeta.ManagedFields = in.ObjectMeta.Labels, in.ObjectMeta.Annotations, managed
	out.ObjectMeta.ResourceVersion = rv(index)
	s.ConfigMaps[key] = out
	s.touch(KindConfigMap, key)
	return &Result{Index: index, ConfigMap: copyConfigMap(out), Changed: true}, nil
}

func (s *state) deleteConfigMap(index uint64, c *DeleteConfigMap) (*Result, error) {
	key := api.Key(c.Namespace, c.Name)
	old, ok := s.ConfigMaps[key]
	if !ok {
		return nil, &NotFoundError{Kind: "ConfigMap", Namespace: c.Namespace, Name: c.Name}
	}
	if c.UID != "" && c.UID != old.ObjectMeta.UID {
		return nil, &ConflictError{Kind: "ConfigMap", Namespace: c.Namespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored object has " + old.ObjectMeta.UID)}
	}
	delete(s.ConfigMaps, key)
	s.touch(KindConfigMap, key)
	return &Result{Index: index, ConfigMap: copyConfigMap(old), Changed: true}, nil
}

// ConfigMap returns a copy of one ConfigMap.
func (f *FSM) ConfigMap(namespace, name string) (*api.ConfigMap, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	cm, ok := f.st.ConfigMaps[api.Key(namespace, name)]
	if !ok {
		return nil, &NotFoundError{Kind: "ConfigMap", Namespace: namespace, Name: name}
	}
	return copyConfigMap(cm), nil
}

// ConfigMaps returns copies of the ConfigMaps filter accepts (all with a
// nil filter), sorted by namespace and name, and the index they were read
// at.
func (f *FSM) ConfigMaps(filter func(*api.ConfigMap) bool) ([]*api.ConfigMap, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	keys := make([]string, 0, len(f.st.ConfigMaps))
	for k := range f.st.ConfigMaps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*api.ConfigMap
	for _, k := range keys {
		if cm := f.st.ConfigMaps[k]; filter == nil || filter(cm) {
			out = append(out, copyConfigMap(cm))
		}
	}
	return out, f.st.Index
}
