package consensus

import (
	"sort"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// The generic operations on stored objects, whatever their kind:
// DeleteObject with a propagation policy (Orphan strips the owner
// references to the deleted object; Background and Foreground delete its
// dependents in the same entry), a Namespace's finalization (every object
// in it goes), and the reads the leader's garbage collector works from.
// storedKinds lists every namespaced kind the state holds; a kind missing
// from it is never deleted with its namespace nor collected, and
// TestStoredKindsCoverState fails until it is added.

// Propagation policies of DeleteObject, as Kubernetes' DeleteOptions name
// them.
const (
	PropagateOrphan     = "Orphan"
	PropagateBackground = "Background"
	PropagateForeground = "Foreground"
)

// DeleteObject deletes one namespaced object of any kind in storedKinds,
// as the kind's own delete does (a ReplicaSet takes the pods it controls
// with it), and then, unless Propagation is Orphan, every object whose
// owner references all name objects deleted by this entry, transitively:
// no reader ever sees an owner gone while such dependents remain, which is
// what Foreground promises (Background promises less). With Orphan, every
// owner reference to the object is removed from its dependents in the
// same entry and they stay. A non-empty UID must match the stored one.
type DeleteObject struct {
	Kind        string  `json:"kind"`
	Namespace   string  `json:"namespace"`
	Name        string  `json:"name"`
	UID         api.UID `json:"uid,omitempty"`
	Propagation string  `json:"propagation,omitempty"`
	// Graceful (a pod's API DELETE) asks for Kubernetes' graceful delete
	// (pod_terminate.go) with GracePeriodSeconds, else the pod's own
	// terminationGracePeriodSeconds; Time is when it was asked.
	Graceful           bool      `json:"graceful,omitempty"`
	GracePeriodSeconds *int64    `json:"gracePeriodSeconds,omitempty"`
	Time               time.Time `json:"time,omitzero"`
}

// Type implements Command.
func (DeleteObject) Type() string { return "DeleteObject" }

// storedKind is what the generic operations know of one namespaced kind.
type storedKind struct {
	kind, apiVersion string
	// keys are the stored keys, sorted; each visits every stored object
	// (not a copy) in no order; get is one, nil when there is none.
	keys func(s *state) []string
	each func(s *state, fn func(key string, obj api.Object))
	get  func(s *state, key string) api.Object
	// remove deletes one object as the kind's own delete command does;
	// orphan keeps what it controls (RCs, ReplicaSets, Deployments).
	remove func(s *state, index uint64, ns, name string, uid api.UID, orphan bool) error
}

// storedKinds are the namespaced kinds the state holds, owners before what
// they own, so a namespace's finalization takes most dependents with their
// owners.
var storedKinds = []storedKind{
	mapKind(KindDeployment, api.AppsV1, func(s *state) map[string]*api.Deployment { return s.Deployments }, removeController(api.KindDeployment)),
	mapKind(KindReplicaSet, api.AppsV1, func(s *state) map[string]*api.ReplicaSet { return s.ReplicaSets }, removeController(api.KindReplicaSet)),
	mapKind(KindReplicationController, api.V1, func(s *state) map[string]*api.ReplicationController { return s.RCs }, removeController(api.KindReplicationController)),
	mapKind(KindCronJob, api.BatchV1, func(s *state) map[string]*api.CronJob { return s.CronJobs },
		func(s *state, index uint64, ns, name string, uid api.UID, orphan bool) error {
			_, err := s.deleteCronJob(index, &DeleteCronJob{Namespace: ns, Name: name, UID: uid, Orphan: orphan})
			return err
		}),
	mapKind(KindJob, api.BatchV1, func(s *state) map[string]*api.Job { return s.Jobs },
		func(s *state, index uint64, ns, name string, uid api.UID, orphan bool) error {
			_, err := s.deleteJob(index, &DeleteJob{Namespace: ns, Name: name, UID: uid, Orphan: orphan})
			return err
		}),
	mapKind(KindDaemonSet, api.AppsV1, func(s *state) map[string]*api.DaemonSet { return s.DaemonSets },
		func(s *state, index uint64, ns, name string, uid api.UID, orphan bool) error {
			_, err := s.deleteDaemonSet(index, &DeleteDaemonSet{Namespace: ns, Name: name, UID: uid, Orphan: orphan})
			return err
		}),
	mapKind(KindControllerRevision, api.AppsV1, func(s *state) map[string]*api.ControllerRevision { return s.ControllerRevisions },
		func(s *state, index uint64, ns, name string, uid api.UID, _ bool) error {
			_, err := s.deleteControllerRevision(index, &DeleteControllerRevision{Namespace: ns, Name: name, UID: uid})
			return err
		}),
	mapKind(KindPod, api.V1, func(s *state) map[string]*api.Pod { return s.Pods },
		func(s *state, index uint64, ns, name string, uid api.UID, _ bool) error {
			_, err := s.deletePod(index, &DeletePod{Namespace: ns, Name: name, UID: uid})
			return err
		}),
	mapKind(KindSecret, api.V1, func(s *state) map[string]*api.Secret { return s.Secrets },
		func(s *state, index uint64, ns, name string, uid api.UID, _ bool) error {
			_, err := s.deleteSecret(index, &DeleteSecret{Namespace: ns, Name: name, UID: uid})
			return err
		}),
	mapKind(KindService, api.V1, func(s *state) map[string]*api.Service { return s.Services },
		func(s *state, index uint64, ns, name string, uid api.UID, _ bool) error {
			_, err := s.deleteService(index, &DeleteService{Namespace: ns, Name: name, UID: uid})
			return err
		}),
	mapKind(KindEndpoints, api.V1, func(s *state) map[string]*api.Endpoints { return s.Endpoints },
		func(s *state, index uint64, ns, name string, uid api.UID, _ bool) error {
			_, err := s.deleteEndpoints(index, &DeleteEndpoints{Namespace: ns, Name: name, UID: uid})
			return err
		}),
	mapKind(KindEndpointSlice, api.DiscoveryV1, func(s *state) map[string]*api.EndpointSlice { return s.EndpointSlices },
		func(s *state, index uint64, ns, name string, uid api.UID, _ bool) error {
			_, err := s.deleteEndpointSlice(index, &DeleteEndpointSlice{Namespace: ns, Name: name, UID: uid})
			return err
		}),
	mapKind(KindConfigMap, api.V1, func(s *state) map[string]*api.ConfigMap { return s.ConfigMaps },
		func(s *state, index uint64, ns, name string, uid api.UID, _ bool) error {
			_, err := s.deleteConfigMap(index, &DeleteConfigMap{Namespace: ns, Name: name, UID: uid})
			return err
		}),
	mapKind(KindServiceAccount, api.V1, func(s *state) map[string]*api.ServiceAccount { return s.ServiceAccounts },
		func(s *state, index uint64, ns, name string, uid api.UID, _ bool) error {
			_, err := s.deleteServiceAccount(index, &DeleteServiceAccount{Namespace: ns, Name: name, UID: uid})
			return err
		}),
	mapKind(KindLease, api.CoordinationV1, func(s *state) map[string]*api.Lease { return s.Leases },
		func(s *state, index uint64, ns, name string, uid api.UID, _ bool) error {
			_, err := s.deleteLease(index, &DeleteLease{Namespace: ns, Name: name, UID: uid})
			return err
		}),
}

func mapKind[T api.Object](kind, apiVersion string, objects func(*state) map[string]T,
	remove func(s *state, index uint64, ns, name string, uid api.UID, orphan bool) error) storedKind {
	return storedKind{kind: kind, apiVersion: apiVersion, remove: remove,
		keys: func(s *state) []string {
			m := objects(s)
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			return keys
		},
		each: func(s *state, fn func(string, api.Object)) {
			for k, obj := range objects(s) {
				fn(k, obj)
			}
		},
		get: func(s *state, key string) api.Object {
			obj, ok := objects(s)[key]
			if !ok {
				return nil
			}
			return obj
		},
	}
}

func removeController(kind string) func(s *state, index uint64, ns, name string, uid api.UID, orphan bool) error {
	return func(s *state, index uint64, ns, name string, uid api.UID, orphan bool) error {
		_, err := s.deleteController(index, &DeleteController{Kind: kind, Namespace: ns, Name: name, UID: uid, Orphan: orphan})
		return err
	}
}

func storedKindOf(kind string) (storedKind, bool) {
	for _, k := range storedKinds {
		if k.kind == kind {
			return k, true
		}
	}
	return storedKind{}, false
}

// DeletesGenerically tells whether DeleteObject serves kind.
func DeletesGenerically(kind string) bool {
	_, ok := storedKindOf(kind)
	return ok
}

// OwnerKindKnown tells whether an owner reference names a kind the state
// holds (its namespaced kinds, Nodes and Namespaces): only then does an
// owner UID missing from the state mean the owner is gone. A reference to
// any other kind (one this version does not store) never makes its
// dependent collectable.
func OwnerKindKnown(apiVersion, kind string) bool {
	if apiVersion == api.V1 && (kind == KindNode || kind == KindNamespace) {
		return true
	}
	k, ok := storedKindOf(kind)
	return ok && k.apiVersion == apiVersion
}

func (s *state) deleteObject(index uint64, c *DeleteObject) (*Result, error) {
	k, ok := storedKindOf(c.Kind)
	if !ok {
		return nil, rejectf("delete: kind %q is not one DeleteObject serves", c.Kind)
	}
	switch c.Propagation {
	case "", PropagateBackground, PropagateForeground, PropagateOrphan:
	default:
		return nil, &InvalidError{Kind: c.Kind, Namespace: c.Namespace, Name: c.Name,
			Fields: api.FieldErrors{{Path: "propagationPolicy", Value: c.Propagation, Detail: "must be Orphan, Background or Foreground"}}}
	}
	obj := k.get(s, api.Key(c.Namespace, c.Name))
	if obj == nil {
		return nil, &NotFoundError{Kind: c.Kind, Namespace: c.Namespace, Name: c.Name}
	}
	uid := api.MetaOf(obj).UID
	if c.UID != "" && c.UID != uid {
		return nil, &ConflictError{Kind: c.Kind, Namespace: c.Namespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored object has " + uid)}
	}
	if res, ok, err := s.terminatePod(index, c); err != nil || ok {
		return res, err // pod_terminate.go: its node stops it, then deletes it again
	}
	if c.Propagation == PropagateOrphan {
		s.dropOwnerReferences(index, uid)
		if err := k.remove(s, index, c.Namespace, c.Name, uid, true); err != nil {
			return nil, err
		}
		return &Result{Index: index, Changed: true}, nil
	}
	deps := s.dependentsOf(uid)
	if err := k.remove(s, index, c.Namespace, c.Name, uid, false); err != nil {
		return nil, err
	}
	s.cascade(index, deps)
	return &Result{Index: index, Changed: true}, nil
}

// dropOwnerReferences removes every owner reference to uid.
func (s *state) dropOwnerReferences(index uint64, uid api.UID) {
	for _, d := range s.dependentsOf(uid) {
		if d.level != 1 {
			break // ordered by level
		}
		m := api.MetaOf(d.kind.get(s, d.key))
		var refs []api.OwnerReference
		for _, r := range m.OwnerReferences {
			if r.UID != uid {
				refs = append(refs, r)
			}
		}
		// Stored objects are only ever read through copies, so the
		// change in place is safe under Apply's lock.
		m.OwnerReferences = refs
		m.ResourceVersion = rv(index)
		s.touch(d.kind.kind, d.key)
	}
}

// ownerLive tells whether the owner a reference of an object in
// namespace ns names is stored: found by its kind and name (in ns, or
// cluster-scoped) with the reference's UID, as Kubernetes' garbage
// collector looks owners up. An owner of a kind the state does not hold
// counts as live: nothing here can tell it is gone.
func (s *state) ownerLive(ns string, r api.OwnerReference) bool {
	if !OwnerKindKnown(r.APIVersion, r.Kind) {
		return true
	}
	var obj api.Object
	switch r.Kind {
	case KindNode:
		if n, ok := s.Nodes[r.Name]; ok {
			obj = n
		}
	case KindNamespace:
		if n, ok := s.Namespaces[r.Name]; ok {
			obj = n
		}
	default:
		k, _ := storedKindOf(r.Kind)
		obj = k.get(s, api.Key(ns, r.Name))
	}
	return obj != nil && api.MetaOf(obj).UID == r.UID
}

// OwnersGone tells whether an object with these owner references has lost
// every owner (live says whether the owner one names is stored): it has
// at least one, each names a kind the state holds (OwnerKindKnown), and
// none is live. Such an object is garbage, as Kubernetes' garbage
// collector decides.
func OwnersGone(refs []api.OwnerReference, live func(api.OwnerReference) bool) bool {
	if len(refs) == 0 {
		return false
	}
	for _, r := range refs {
		if !OwnerKindKnown(r.APIVersion, r.Kind) || live(r) {
			return false
		}
	}
	return true
}

func (s *state) ownersGone(m *api.ObjectMeta) bool {
	return OwnersGone(m.OwnerReferences, func(r api.OwnerReference) bool { return s.ownerLive(m.Namespace, r) })
}

// dependent is one stored object that has owner references.
type dependent struct {
	kind  *storedKind
	level int // 1: it names the root as an owner; 2: it names a level 1 object; ...
	order int // the kind's place in storedKinds
	key   string
	uid   api.UID
}

// dependentsOf is every object that names root as its owner, or names
// such an object, transitively, ordered by level, kind (storedKinds'
// order) and key, so that what Apply does with them does not depend on
// map order. It scans the objects once per level: a pod's delete, whose
// pod owns nothing, costs one scan.
func (s *state) dependentsOf(root api.UID) []dependent {
	var out []dependent
	seen := map[api.UID]bool{root: true}
	frontier := map[api.UID]bool{root: true}
	for level := 1; len(frontier) > 0; level++ {
		next := map[api.UID]bool{}
		for i := range storedKinds {
			k := &storedKinds[i]
			k.each(s, func(key string, obj api.Object) {
				m := api.MetaOf(obj)
				for _, r := range m.OwnerReferences {
					if frontier[r.UID] && !seen[m.UID] {
						seen[m.UID], next[m.UID] = true, true
						out = append(out, dependent{kind: k, level: level, order: i, key: key, uid: m.UID})
						return
					}
				}
			})
		}
		frontier = next
	}
	sort.Slice(out, func(a, b int) bool {
		x, y := out[a], out[b]
		if x.level != y.level {
			return x.level < y.level
		}
		return x.order < y.order || x.order == y.order && x.key < y.key
	})
	return out
}

// cascade follows a removal through deps (dependentsOf, read before it):
// a dependent whose owners are all gone now is removed, with what its own
// delete takes (one taken by its owner's delete, as an RC's pods, is gone
// already); passes repeat until one removes nothing, so the order within a
// level does not matter.
func (s *state) cascade(index uint64, deps []dependent) {
	for removed := true; removed; {
		removed = false
		for _, d := range deps {
			obj := d.kind.get(s, d.key)
			if obj == nil || api.MetaOf(obj).UID != d.uid {
				continue
			}
			m := api.MetaOf(obj)
			if !s.ownersGone(m) {
				continue
			}
			_ = d.kind.remove(s, index, m.Namespace, m.Name, m.UID, false) // it exists: only its own rules could refuse
			removed = true
		}
	}
}

// removeAllIn removes every namespaced object in namespace ns, owners
// first, each as its own delete would (what it controls goes with it).
func (s *state) removeAllIn(index uint64, ns string) {
	prefix := ns + "/"
	for _, k := range storedKinds {
		for _, key := range k.keys(s) {
			if !strings.HasPrefix(key, prefix) {
				continue
			}
			if obj := k.get(s, key); obj != nil {
				m := api.MetaOf(obj)
				_ = k.remove(s, index, m.Namespace, m.Name, m.UID, false) // it exists: only its own rules could refuse
			}
		}
	}
	s.removeEventsIn(ns)
}

// removeEventsIn drops the events of namespace ns, which go with it as in
// Kubernetes; they are not a kind DeleteObject serves.
func (s *state) removeEventsIn(ns string) {
	if s.Events == nil {
		return
	}
	kept := make([]*api.Event, 0, len(s.Events.Items))
	for _, e := range s.Events.Items {
		if e.ObjectMeta.Namespace != ns {
			kept = append(kept, e)
		}
	}
	if len(kept) != len(s.Events.Items) {
		s.Events.Items = kept
		s.touch(KindEvent, "")
	}
}

// ObjectRef is what the garbage collector and the namespace controller
// read of a stored object.
type ObjectRef struct {
	Kind, APIVersion string
	Namespace, Name  string
	UID              api.UID
	OwnerReferences  []api.OwnerReference
	// OwnersGone: it has owners, and every one is gone (OwnersGone).
	OwnersGone bool
}

// ObjectRefs lists every stored object of the kinds DeleteObject serves,
// read at one index, which it returns.
func (f *FSM) ObjectRefs() ([]ObjectRef, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []ObjectRef
	for _, k := range storedKinds {
		for _, key := range k.keys(f.st) {
			m := api.MetaOf(k.get(f.st, key))
			ref := ObjectRef{Kind: k.kind, APIVersion: k.apiVersion, Namespace: m.Namespace, Name: m.Name, UID: m.UID}
			if len(m.OwnerReferences) > 0 {
				ref.OwnerReferences = append([]api.OwnerReference(nil), m.OwnerReferences...)
				ref.OwnersGone = f.st.ownersGone(m)
			}
			out = append(out, ref)
		}
	}
	return out, f.st.Index
}
