package consensus

import (
	"reflect"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api"
)

// ApplyLease creates a Lease, or replaces the stored one's spec, labels
// and annotations. Create refuses an existing name (POST); a non-empty
// resourceVersion must match the stored one, which is the compare-and-set
// client-go's leader election relies on.
type ApplyLease struct {
	Lease  api.Lease `json:"lease"`
	Create bool      `json:"create,omitempty"`
	UID    api.UID   `json:"uid"` // used only when the Lease is created
	Time   time.Time `json:"time"`
}

// DeleteLease removes a Lease; a non-empty UID must match the stored one.
type DeleteLease struct {
	Namespace string  `json:"namespace"`
	Name      string  `json:"name"`
	UID       api.UID `json:"uid,omitempty"`
}

// RenewNodeLeases renews, in one entry, the kube-node-lease Lease of every
// node named (created when missing, held by the node, owned by its Node):
// the leader writes it every NodeLeaseRenewal for the nodes gossip hears,
// so node heartbeats cost one Raft entry per interval for the whole fleet
// instead of one per node. A name the state holds no node of is skipped.
type RenewNodeLeases struct {
	Nodes []string  `json:"nodes"`
	Time  time.Time `json:"time"`
}

// Type implements Command.
func (ApplyLease) Type() string { return "ApplyLease" }

// Type implements Command.
func (DeleteLease) Type() string { return "DeleteLease" }

// Type implements Command.
func (RenewNodeLeases) Type() string { return "RenewNodeLeases" }

// KindLease is the change stream's name of Leases (namespace/name).
const KindLease = "Lease"

func copyLease(l *api.Lease) *api.Lease {
	out := &api.Lease{}
	mustRoundTrip(l, out)
	return out
}

func (s *state) putLease(key string, l *api.Lease) {
	if s.Leases == nil {
		s.Leases = map[string]*api.Lease{}
	}
	s.Leases[key] = l
	s.touch(KindLease, key)
}

func (s *state) applyLease(index uint64, c *ApplyLease) (*Result, error) {
	in := copyLease(&c.Lease)
	api.Default(in)
	meta := &in.ObjectMeta
	ns, name := meta.Namespace, meta.Name
	if err := api.ValidateLease(in); err != nil {
		return nil, &InvalidError{Kind: KindLease, Namespace: ns, Name: name, Fields: api.AsFieldErrors(err)}
	}
	key := api.Key(ns, name)
	old, exists := s.Leases[key]
	if exists && c.Create {
		return nil, &AlreadyExistsError{Kind: KindLease, Namespace: ns, Name: name}
	}
	if !exists {
		if c.UID == "" {
			return nil, &InvalidError{Kind: KindLease, Namespace: ns, Name: name,
				Fields: api.FieldErrors{{Path: "metadata.uid", Detail: "required: the leader must choose the UID"}}}
		}
		meta.UID = c.UID
		meta.ResourceVersion = rv(index)
		meta.CreationTimestamp = api.TimeOf(c.Time)
		meta.DeletionTimestamp, meta.Generation = nil, 0
		s.putLease(key, in)
		return &Result{Index: index, Lease: copyLease(in), Changed: true, Created: true}, nil
	}
	om := old.ObjectMeta
	if meta.UID != "" && meta.UID != om.UID {
		return nil, &ConflictError{Kind: KindLease, Namespace: ns, Name: name,
			Reason: string("metadata.uid " + meta.UID + " does not match the stored object's " + om.UID)}
	}
	if v := meta.ResourceVersion; v != "" && v != om.ResourceVersion {
		return nil, &ConflictError{Kind: KindLease, Namespace: ns, Name: name,
			Reason: "the object has been modified (resourceVersion " + v + ", now " + om.ResourceVersion + "); read it again and retry"}
	}
	managed, managedChanged := managedFieldsAfter(om.ManagedFields, meta.ManagedFields)
	if !managedChanged && reflect.DeepEqual(old.Spec, in.Spec) && equalStringMaps(om.Labels, meta.Labels) && equalStringMaps(om.Annotations, meta.Annotations) {
		return &Result{Index: index, Lease: copyLease(old)}, nil
	}
	out := copyLease(old)
	out.Spec = in.Spec
	out.ObjectMeta.Labels, out.ObjectMeta.Annotations, out.ObjectMeta.ManagedFields = meta.Labels, meta.Annotations, managed
	out.ObjectMeta.ResourceVersion = rv(index)
	s.putLease(key, out)
	return &Result{Index: index, Lease: copyLease(out), Changed: true}, nil
}

func (s *state) deleteLease(index uint64, c *DeleteLease) (*Result, error) {
	key := api.Key(c.Namespace, c.Name)
	old, ok := s.Leases[key]
	if !ok {
		return nil, &NotFoundError{Kind: KindLease, Namespace: c.Namespace, Name: c.Name}
	}
	if c.UID != "" && c.UID != old.ObjectMeta.UID {
		return nil, &ConflictError{Kind: KindLease, Namespace: c.Namespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored object has " + old.ObjectMeta.UID)}
	}
	delete(s.Leases, key)
	s.touch(KindLease, key)
	return &Result{Index: index, Lease: copyLease(old), Changed: true}, nil
}

func (s *state) renewNodeLeases(index uint64, c *RenewNodeLeases) (*Result, error) {
	now := v1.NewMicroTime(c.Time.UTC().Truncate(time.Microsecond))
	names := append([]string(nil), c.Nodes...)
	sort.Strings(names)
	changed := false
	for _, name := range names {
		n, ok := s.Nodes[name]
		if !ok {
			continue
		}
		key := api.Key(api.NodeLeaseNS, name)
		l, exists := s.Leases[key]
		if exists {
			l = l.DeepCopy() // generated: a renewal of a large fleet copies every Lease
		} else {
			l = &api.Lease{}
			l.APIVersion, l.Kind = api.CoordinationV1, api.KindLease
			l.ObjectMeta.Namespace, l.ObjectMeta.Name = api.NodeLeaseNS, name
			// Derived from the node's, so every server derives the same.
			l.ObjectMeta.UID = n.ObjectMeta.UID + "-lease"
			l.ObjectMeta.CreationTimestamp = api.TimeOf(c.Time)
			l.ObjectMeta.OwnerReferences = []api.OwnerReference{{APIVersion: api.V1, Kind: api.KindNode, Name: name, UID: n.ObjectMeta.UID}}
		}
		holder, seconds := name, int32(api.NodeLeaseSeconds)
		l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds = &holder, &seconds
		renew := now
		l.Spec.RenewTime = &renew
		l.ObjectMeta.ResourceVersion = rv(index)
		s.putLease(key, l)
		changed = true
	}
	return &Result{Index: index, Changed: changed}, nil
}

// Lease returns a copy of one Lease.
func (f *FSM) Lease(namespace, name string) (*api.Lease, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	l, ok := f.st.Leases[api.Key(namespace, name)]
	if !ok {
		return nil, &NotFoundError{Kind: KindLease, Namespace: namespace, Name: name}
	}
	return copyLease(l), nil
}

// Leases returns copies of the Leases filter accepts (nil: all), sorted by
// key, and the state's index.
func (f *FSM) Leases(filter func(*api.Lease) bool) ([]*api.Lease, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	keys := make([]string, 0, len(f.st.Leases))
	for k, l := range f.st.Leases {
		if filter == nil || filter(l) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]*api.Lease, len(keys))
	for i, k := range keys {
		out[i] = copyLease(f.st.Leases[k])
	}
	return out, f.st.Index
}
