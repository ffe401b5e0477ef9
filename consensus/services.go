package consensus

import (
	"reflect"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// ApplyService creates a Service, or replaces the stored one's spec,
// labels and annotations. Create refuses an existing name (POST). The state
// machine allocates what the Service leaves out: its ClusterIP from
// ServiceCIDR (above the range's static band, so that addresses asked for
// by number stay free) and, for type NodePort, its node ports; a requested
// clusterIP or nodePort is honoured if it is in range and free, else the
// command is refused naming the field. An update keeps the allocated
// values a manifest leaves out and refuses a changed clusterIP.
type ApplyService struct {
	Service api.Service `json:"service"`
	Create  bool        `json:"create,omitempty"`
	UID     api.UID     `json:"uid"` // used only when the Service is created
	// ServiceCIDR is the fleet's service range (DefaultServiceCIDR when
	// empty), carried by every command as RegisterNode carries the pod
	// range: the state machine holds no configuration of its own.
	ServiceCIDR string    `json:"serviceCIDR,omitempty"`
	Time        time.Time `json:"time"`
}

// DeleteService removes a Service, releasing its ClusterIP and node ports,
// and in the same entry the Endpoints and EndpointSlices kept for it, so
// no proxy or resolver ever sees endpoints of a Service that is gone. A
// non-empty UID must match the stored one.
type DeleteService struct {
	Namespace string  `json:"namespace"`
	Name      string  `json:"name"`
	UID       api.UID `json:"uid,omitempty"`
}

// Type implements Command.
func (ApplyService) Type() string { return "ApplyService" }

// Type implements Command.
func (DeleteService) Type() string { return "DeleteService" }

func copyService(s *api.Service) *api.Service {
	out := &api.Service{}
	mustRoundTrip(s, out)
	return out
}

// putService stores svc under key and moves its addresses in the index.
func (s *state) putService(key string, svc *api.Service) {
	if s.Services == nil {
		s.Services = map[string]*api.Service{}
	}
	if old, ok := s.Services[key]; ok {
		s.ix.services.remove(key, old)
	}
	s.Services[key] = svc
	s.ix.services.add(key, svc)
	s.touch(KindService, key)
}

func (s *state) removeService(key string) {
	old, ok := s.Services[key]
	if !ok {
		return
	}
	delete(s.Services, key)
	s.ix.services.remove(key, old)
	s.touch(KindService, key)
}

func (s *state) applyService(index uint64, c *ApplyService) (*Result, error) {
	in := copyService(&c.Service)
	api.Default(in)
	meta := &in.ObjectMeta
	ns, name := meta.Namespace, meta.Name
	invalid := func(err error) error {
		return &InvalidError{Kind: KindService, Namespace: ns, Name: name, Fields: api.AsFieldErrors(err)}
	}
	cidr, err := parseServiceCIDR(c.ServiceCIDR)
	if err != nil {
		return nil, err
	}
	key := api.Key(ns, name)
	old, exists := s.Services[key]
	if exists && c.Create {
		return nil, &AlreadyExistsError{Kind: KindService, Namespace: ns, Name: name}
	}
	if exists {
		api.PrepareServiceUpdate(old, in)
	}
	if err := api.ValidateService(in); err != nil {
		return nil, invalid(err)
	}
	if !exists {
		if c.UID == "" {
			return nil, &InvalidError{Kind: KindService, Namespace: ns, Name: name,
				Fields: api.FieldErrors{{Path: "metadata.uid", Detail: "required: the leader must choose the UID"}}}
		}
		if err := s.assignClusterIP(key, in, cidr); err != nil {
			return nil, fieldsOrReject(err, invalid)
		}
		if err := s.assignNodePorts(key, in); err != nil {
			return nil, fieldsOrReject(err, invalid)
		}
		meta.UID = c.UID
		meta.ResourceVersion = rv(index)
		meta.CreationTimestamp = api.TimeOf(c.Time)
		meta.DeletionTimestamp, meta.Generation = nil, 0
		// Status is not the user's to write; shoal sets none.
		in.Status = api.ServiceStatus{}
		s.putService(key, in)
		return &Result{Index: index, Service: copyService(in), Changed: true, Created: true}, nil
	}
	om := old.ObjectMeta
	if meta.UID != "" && meta.UID != om.UID {
		return nil, &ConflictError{Kind: KindService, Namespace: ns, Name: name,
			Reason: string("metadata.uid " + meta.UID + " does not match the stored object's " + om.UID)}
	}
	if v := meta.ResourceVersion; v != "" && v != om.ResourceVersion {
		return nil, &ConflictError{Kind: KindService, Namespace: ns, Name: name,
			Reason: "the object has been modified (resourceVersion " + v + ", now " + om.ResourceVersion + "); read it again and retry"}
	}
	if err := api.ValidateServiceUpdate(old, in); err != nil {
		return nil, invalid(err)
	}
	if err := s.assignNodePorts(key, in); err != nil {
		return nil, fieldsOrReject(err, invalid)
	}
	specChanged := !reflect.DeepEqual(toGeneric(old.Spec), toGeneric(in.Spec))
	managed, managedChanged := managedFieldsAfter(om.ManagedFields, meta.ManagedFields)
	if !specChanged && !managedChanged && equalStringMaps(om.Labels, meta.Labels) && equalStringMaps(om.Annotations, meta.Annotations) {
		return &Result{Index: index, Service: copyService(old)}, nil
	}
	out := copyService(old)
	out.Spec = in.Spec
	out.ObjectMeta.Labels, out.ObjectMeta.Annotations, out.ObjectMeta.ManagedFields = meta.Labels, meta.Annotations, managed
	out.ObjectMeta.ResourceVersion = rv(index)
	s.putService(key, out)
	return &Result{Index: index, Service: copyService(out), Changed: true}, nil
}

// fieldsOrReject turns field errors into the kind's InvalidError and
// passes any other refusal on.
func fieldsOrReject(err error, invalid func(error) error) error {
	if api.AsFieldErrors(err) != nil {
		return invalid(err)
	}
	return err
}

func (s *state) deleteService(index uint64, c *DeleteService) (*Result, error) {
	key := api.Key(c.Namespace, c.Name)
	old, ok := s.Services[key]
	if !ok {
		return nil, &NotFoundError{Kind: KindService, Namespace: c.Namespace, Name: c.Name}
	}
	if c.UID != "" && c.UID != old.ObjectMeta.UID {
		return nil, &ConflictError{Kind: KindService, Namespace: c.Namespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored object has " + old.ObjectMeta.UID)}
	}
	s.removeService(key)
	s.removeEndpointsOf(c.Namespace, c.Name)
	return &Result{Index: index, Service: copyService(old), Changed: true}, nil
}

// Service returns a copy of one Service, or a NotFoundError.
func (f *FSM) Service(namespace, name string) (*api.Service, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	svc, ok := f.st.Services[api.Key(namespace, name)]
	if !ok {
		return nil, &NotFoundError{Kind: KindService, Namespace: namespace, Name: name}
	}
	return copyService(svc), nil
}

// Services returns copies of the Services filter accepts (all with a nil
// filter), sorted by namespace and name, and the index they were read at.
func (f *FSM) Services(filter func(*api.Service) bool) ([]*api.Service, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []*api.Service
	for _, k := range sortedKeys(f.st.Services) {
		if svc := f.st.Services[k]; filter == nil || filter(svc) {
			out = append(out, copyService(svc))
		}
	}
	return out, f.st.Index
}
