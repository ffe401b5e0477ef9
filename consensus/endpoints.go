package consensus

import (
	"reflect"
	"sort"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// PutEndpoints stores the Endpoints object of a Service (same namespace and
// name), created or replaced whole, as the leader's endpoints controller
// computed it. The Service must exist with ServiceUID: a controller that
// acted on a Service since deleted or re-created is refused (Conflict or
// NotFound), never leaves endpoints behind. A non-empty
// metadata.resourceVersion must match the stored object's. Writing what is
// stored already changes nothing and emits no change.
type PutEndpoints struct {
	Endpoints  api.Endpoints `json:"endpoints"`
	ServiceUID api.UID       `json:"serviceUID"`
	UID        api.UID       `json:"uid"` // used only when the object is created
	Time       time.Time     `json:"time"`
}

// DeleteEndpoints removes an Endpoints object; a non-empty UID must match.
type DeleteEndpoints struct {
	Namespace string  `json:"namespace"`
	Name      string  `json:"name"`
	UID       api.UID `json:"uid,omitempty"`
}

// PutEndpointSlice stores an EndpointSlice of the Service its
// kubernetes.io/service-name label names, on the same terms as
// PutEndpoints.
type PutEndpointSlice struct {
	Slice      api.EndpointSlice `json:"slice"`
	ServiceUID api.UID           `json:"serviceUID"`
	UID        api.UID           `json:"uid"` // used only when the slice is created
	Time       time.Time         `json:"time"`
}

// DeleteEndpointSlice removes an EndpointSlice; a non-empty UID must match.
type DeleteEndpointSlice struct {
	Namespace string  `json:"namespace"`
	Name      string  `json:"name"`
	UID       api.UID `json:"uid,omitempty"`
}

// Type implements Command.
func (PutEndpoints) Type() string { return "PutEndpoints" }

// Type implements Command.
func (DeleteEndpoints) Type() string { return "DeleteEndpoints" }

// Type implements Command.
func (PutEndpointSlice) Type() string { return "PutEndpointSlice" }

// Type implements Command.
func (DeleteEndpointSlice) Type() string { return "DeleteEndpointSlice" }

func copyEndpoints(e *api.Endpoints) *api.Endpoints {
	out := &api.Endpoints{}
	mustRoundTrip(e, out)
	return out
}

func copyEndpointSlice(es *api.EndpointSlice) *api.EndpointSlice {
	out := &api.EndpointSlice{}
	mustRoundTrip(es, out)
	return out
}

// checkOwningService refuses endpoints for a Service that is not stored
// with the UID the controller saw.
func (s *state) checkOwningService(kind, ns, name, svcName string, svcUID api.UID) error {
	svc, ok := s.Services[api.Key(ns, svcName)]
	if !ok {
		return &NotFoundError{Kind: KindService, Namespace: ns, Name: svcName}
	}
	if svcUID != svc.ObjectMeta.UID {
		return &ConflictError{Kind: kind, Namespace: ns, Name: name,
			Reason: string("service uid " + svcUID + " does not match the stored Service's " + svc.ObjectMeta.UID + " (the Service was replaced)")}
	}
	return nil
}

// settleMeta makes in's metadata what the store keeps: on create the UID
// and time of the command, on replace the stored identity. It refuses a
// stale resourceVersion or another UID, and reports whether in differs
// from old (nil when new) in anything but its resourceVersion.
func settleMeta(kind string, meta *api.ObjectMeta, old *api.ObjectMeta, uid api.UID, t time.Time, oldObj, inObj any) (bool, error) {
	ns, name := meta.Namespace, meta.Name
	meta.DeletionTimestamp, meta.Generation = nil, 0
	if old == nil {
		if uid == "" {
			return false, &InvalidError{Kind: kind, Namespace: ns, Name: name,
				Fields: api.FieldErrors{{Path: "metadata.uid", Detail: "required: the leader must choose the UID"}}}
		}
		meta.UID, meta.CreationTimestamp = uid, api.TimeOf(t)
		return true, nil
	}
	if meta.UID != "" && meta.UID != old.UID {
		return false, &ConflictError{Kind: kind, Namespace: ns, Name: name,
			Reason: string("metadata.uid " + meta.UID + " does not match the stored object's " + old.UID)}
	}
	if v := meta.ResourceVersion; v != "" && v != old.ResourceVersion {
		return false, &ConflictError{Kind: kind, Namespace: ns, Name: name,
			Reason: "the object has been modified (resourceVersion " + v + ", now " + old.ResourceVersion + "); read it again and retry"}
	}
	meta.UID, meta.CreationTimestamp, meta.ResourceVersion = old.UID, old.CreationTimestamp, old.ResourceVersion
	return !reflect.DeepEqual(toGeneric(oldObj), toGeneric(inObj)), nil
}

func (s *state) putEndpoints(index uint64, c *PutEndpoints) (*Result, error) {
	in := copyEndpoints(&c.Endpoints)
	api.Default(in)
	ns, name := in.Namespace, in.Name
	if err := api.ValidateEndpoints(in); err != nil {
		return nil, &InvalidError{Kind: KindEndpoints, Namespace: ns, Name: name, Fields: api.AsFieldErrors(err)}
	}
	if err := s.checkOwningService(KindEndpoints, ns, name, name, c.ServiceUID); err != nil {
		return nil, err
	}
	key := api.Key(ns, name)
	old, exists := s.Endpoints[key]
	var oldMeta *api.ObjectMeta
	var oldObj any
	if exists {
		oldMeta, oldObj = &old.ObjectMeta, old
	}
	changed, err := settleMeta(KindEndpoints, &in.ObjectMeta, oldMeta, c.UID, c.Time, oldObj, in)
	if err != nil {
		return nil, err
	}
	if !changed {
		return &Result{Index: index, Endpoints: copyEndpoints(old)}, nil
	}
	in.ResourceVersion = rv(index)
	if s.Endpoints == nil {
		s.Endpoints = map[string]*api.Endpoints{}
	}
	s.Endpoints[key] = in
	s.touch(KindEndpoints, key)
	return &Result{Index: index, Endpoints: copyEndpoints(in), Changed: true, Created: !exists}, nil
}

func (s *state) deleteEndpoints(index uint64, c *DeleteEndpoints) (*Result, error) {
	key := api.Key(c.Namespace, c.Name)
	old, ok := s.Endpoints[key]
	if !ok {
		return nil, &NotFoundError{Kind: KindEndpoints, Namespace: c.Namespace, Name: c.Name}
	}
	if c.UID != "" && c.UID != old.ObjectMeta.UID {
		return nil, &ConflictError{Kind: KindEndpoints, Namespace: c.Namespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored object has " + old.ObjectMeta.UID)}
	}
	delete(s.Endpoints, key)
	s.touch(KindEndpoints, key)
	return &Result{Index: index, Endpoints: copyEndpoints(old), Changed: true}, nil
}

func (s *state) putEndpointSlice(index uint64, c *PutEndpointSlice) (*Result, error) {
	in := copyEndpointSlice(&c.Slice)
	api.Default(in)
	ns, name := in.Namespace, in.Name
	if err := api.ValidateEndpointSlice(in); err != nil {
		return nil, &InvalidError{Kind: KindEndpointSlice, Namespace: ns, Name: name, Fields: api.AsFieldErrors(err)}
	}
	if err := s.checkOwningService(KindEndpointSlice, ns, name, in.Labels[api.LabelServiceName], c.ServiceUID); err != nil {
		return nil, err
	}
	key := api.Key(ns, name)
	old, exists := s.EndpointSlices[key]
	if exists && old.Labels[api.LabelServiceName] != in.Labels[api.LabelServiceName] {
		return nil, &InvalidError{Kind: KindEndpointSlice, Namespace: ns, Name: name, Fields: api.FieldErrors{{
			Path: "metadata.labels[" + api.LabelServiceName + "]", Value: in.Labels[api.LabelServiceName],
			Detail: "field is immutable (the slice belongs to Service " + old.Labels[api.LabelServiceName] + ")"}}}
	}
	var oldMeta *api.ObjectMeta
	var oldObj any
	if exists {
		oldMeta, oldObj = &old.ObjectMeta, old
	}
	changed, err := settleMeta(KindEndpointSlice, &in.ObjectMeta, oldMeta, c.UID, c.Time, oldObj, in)
	if err != nil {
		return nil, err
	}
	if !changed {
		return &Result{Index: index, EndpointSlice: copyEndpointSlice(old)}, nil
	}
	in.ResourceVersion = rv(index)
	if s.EndpointSlices == nil {
		s.EndpointSlices = map[string]*api.EndpointSlice{}
	}
	s.EndpointSlices[key] = in
	s.touch(KindEndpointSlice, key)
	return &Result{Index: index, EndpointSlice: copyEndpointSlice(in), Changed: true, Created: !exists}, nil
}

func (s *state) deleteEndpointSlice(index uint64, c *DeleteEndpointSlice) (*Result, error) {
	key := api.Key(c.Namespace, c.Name)
	old, ok := s.EndpointSlices[key]
	if !ok {
		return nil, &NotFoundError{Kind: KindEndpointSlice, Namespace: c.Namespace, Name: c.Name}
	}
	if c.UID != "" && c.UID != old.ObjectMeta.UID {
		return nil, &ConflictError{Kind: KindEndpointSlice, Namespace: c.Namespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored object has " + old.ObjectMeta.UID)}
	}
	delete(s.EndpointSlices, key)
	s.touch(KindEndpointSlice, key)
	return &Result{Index: index, EndpointSlice: copyEndpointSlice(old), Changed: true}, nil
}

// removeEndpointsOf removes, with the Service ns/name, the Endpoints of
// its name and the slices that name it.
func (s *state) removeEndpointsOf(ns, name string) {
	key := api.Key(ns, name)
	if _, ok := s.Endpoints[key]; ok {
		delete(s.Endpoints, key)
		s.touch(KindEndpoints, key)
	}
	for _, k := range sortedKeys(s.EndpointSlices) {
		if es := s.EndpointSlices[k]; es.Namespace == ns && es.Labels[api.LabelServiceName] == name {
			delete(s.EndpointSlices, k)
			s.touch(KindEndpointSlice, k)
		}
	}
}

// Endpoints returns a copy of one Endpoints object, or a NotFoundError.
func (f *FSM) Endpoints(namespace, name string) (*api.Endpoints, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	e, ok := f.st.Endpoints[api.Key(namespace, name)]
	if !ok {
		return nil, &NotFoundError{Kind: KindEndpoints, Namespace: namespace, Name: name}
	}
	return copyEndpoints(e), nil
}

// ListEndpoints returns copies of the Endpoints objects filter accepts
// (all with a nil filter), sorted by namespace and name, and the index
// they were read at.
func (f *FSM) ListEndpoints(filter func(*api.Endpoints) bool) ([]*api.Endpoints, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []*api.Endpoints
	for _, k := range sortedKeys(f.st.Endpoints) {
		if e := f.st.Endpoints[k]; filter == nil || filter(e) {
			out = append(out, copyEndpoints(e))
		}
	}
	return out, f.st.Index
}

// EndpointSlice returns a copy of one EndpointSlice, or a NotFoundError.
func (f *FSM) EndpointSlice(namespace, name string) (*api.EndpointSlice, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	es, ok := f.st.EndpointSlices[api.Key(namespace, name)]
	if !ok {
		return nil, &NotFoundError{Kind: KindEndpointSlice, Namespace: namespace, Name: name}
	}
	return copyEndpointSlice(es), nil
}

// EndpointSlices returns copies of the EndpointSlices filter accepts (all
// with a nil filter), sorted by namespace and name, and the index they
// were read at.
func (f *FSM) EndpointSlices(filter func(*api.EndpointSlice) bool) ([]*api.EndpointSlice, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []*api.EndpointSlice
	for _, k := range sortedKeys(f.st.EndpointSlices) {
		if es := f.st.EndpointSlices[k]; filter == nil || filter(es) {
			out = append(out, copyEndpointSlice(es))
		}
	}
	return out, f.st.Index
}

// sortedKeys gives readers and Apply one order independent of map order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
