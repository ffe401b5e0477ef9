package consensus

import (
	"reflect"
	"sort"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// KindServiceAccount is the change stream's kind of ServiceAccounts (namespace/name).
const KindServiceAccount = "ServiceAccount"

// ApplyServiceAccount creates a ServiceAccount, or replaces the stored
// one's imagePullSecrets, automountServiceAccountToken, labels, annotations
// and managedFields. Create refuses an existing name (POST).
type ApplyServiceAccount struct {
	ServiceAccount api.ServiceAccount `json:"serviceAccount"`
	Create         bool               `json:"create,omitempty"`
	UID            api.UID            `json:"uid"` // used only when the ServiceAccount is created
	Time           time.Time          `json:"time"`
}

// DeleteServiceAccount removes a ServiceAccount; a non-empty UID must match the
// stored one.
type DeleteServiceAccount struct {
	Namespace string  `json:"namespace"`
	Name      string  `json:"name"`
	UID       api.UID `json:"uid,omitempty"`
}

// Type implements Command.
func (ApplyServiceAccount) Type() string { return "ApplyServiceAccount" }

// Type implements Command.
func (DeleteServiceAccount) Type() string { return "DeleteServiceAccount" }

func copyServiceAccount(c *api.ServiceAccount) *api.ServiceAccount {
	out := &api.ServiceAccount{}
	mustRoundTrip(c, out)
	return out
}

func (s *state) applyServiceAccount(index uint64, c *ApplyServiceAccount) (*Result, error) {
	in := copyServiceAccount(&c.ServiceAccount)
	api.Default(in)
	meta := &in.ObjectMeta
	ns, name := meta.Namespace, meta.Name
	if err := api.ValidateServiceAccount(in); err != nil {
		return nil, &InvalidError{Kind: "ServiceAccount", Namespace: ns, Name: name, Fields: api.AsFieldErrors(err)}
	}
	key := api.Key(ns, name)
	old, exists := s.ServiceAccounts[key]
	if exists && c.Create {
		return nil, &AlreadyExistsError{Kind: "ServiceAccount", Namespace: ns, Name: name}
	}
	if !exists {
		if c.UID == "" {
			return nil, &InvalidError{Kind: "ServiceAccount", Namespace: ns, Name: name,
				Fields: api.FieldErrors{{Path: "metadata.uid", Detail: "required: the leader must choose the UID"}}}
		}
		meta.UID = c.UID
		meta.ResourceVersion = rv(index)
		meta.CreationTimestamp = api.TimeOf(c.Time)
		meta.DeletionTimestamp, meta.Generation = nil, 0
		if s.ServiceAccounts == nil {
			s.ServiceAccounts = map[string]*api.ServiceAccount{}
		}
		s.ServiceAccounts[key] = in
		s.touch(KindServiceAccount, key)
		return &Result{Index: index, ServiceAccount: copyServiceAccount(in), Changed: true, Created: true}, nil
	}
	om := old.ObjectMeta
	if meta.UID != "" && meta.UID != om.UID {
		return nil, &ConflictError{Kind: "ServiceAccount", Namespace: ns, Name: name,
			Reason: string("metadata.uid " + meta.UID + " does not match the stored object's " + om.UID)}
	}
	if v := meta.ResourceVersion; v != "" && v != om.ResourceVersion {
		return nil, &ConflictError{Kind: "ServiceAccount", Namespace: ns, Name: name,
			Reason: "the object has been modified (resourceVersion " + v + ", now " + om.ResourceVersion + "); read it again and retry"}
	}
	contentChanged := !reflect.DeepEqual(old.ImagePullSecrets, in.ImagePullSecrets) ||
		!reflect.DeepEqual(old.AutomountServiceAccountToken, in.AutomountServiceAccountToken)
	managed, managedChanged := managedFieldsAfter(om.ManagedFields, in.ObjectMeta.ManagedFields)
	if !contentChanged && !managedChanged && equalStringMaps(om.Labels, in.ObjectMeta.Labels) && equalStringMaps(om.Annotations, in.ObjectMeta.Annotations) {
		return &Result{Index: index, ServiceAccount: copyServiceAccount(old)}, nil
	}
	out := copyServiceAccount(old)
	out.ImagePullSecrets, out.AutomountServiceAccountToken = in.ImagePullSecrets, in.AutomountServiceAccountToken
	out.ObjectMeta.Labels, out.ObjectMeta.Annotations, out.ObjectMeta.ManagedFields = in.ObjectMeta.Labels, in.ObjectMeta.Annotations, managed
	out.ObjectMeta.ResourceVersion = rv(index)
	s.ServiceAccounts[key] = out
	s.touch(KindServiceAccount, key)
	return &Result{Index: index, ServiceAccount: copyServiceAccount(out), Changed: true}, nil
}

func (s *state) deleteServiceAccount(index uint64, c *DeleteServiceAccount) (*Result, error) {
	key := api.Key(c.Namespace, c.Name)
	old, ok := s.ServiceAccounts[key]
	if !ok {
		return nil, &NotFoundError{Kind: "ServiceAccount", Namespace: c.Namespace, Name: c.Name}
	}
	if c.UID != "" && c.UID != old.ObjectMeta.UID {
		return nil, &ConflictError{Kind: "ServiceAccount", Namespace: c.Namespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored object has " + old.ObjectMeta.UID)}
	}
	delete(s.ServiceAccounts, key)
	s.touch(KindServiceAccount, key)
	return &Result{Index: index, ServiceAccount: copyServiceAccount(old), Changed: true}, nil
}

// ServiceAccount returns a copy of one ServiceAccount.
func (f *FSM) ServiceAccount(namespace, name string) (*api.ServiceAccount, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	cm, ok := f.st.ServiceAccounts[api.Key(namespace, name)]
	if !ok {
		return nil, &NotFoundError{Kind: "ServiceAccount", Namespace: namespace, Name: name}
	}
	return copyServiceAccount(cm), nil
}

// ServiceAccounts returns copies of the ServiceAccounts filter accepts (all with a
// nil filter), sorted by namespace and name, and the index they were read
// at.
func (f *FSM) ServiceAccounts(filter func(*api.ServiceAccount) bool) ([]*api.ServiceAccount, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	keys := make([]string, 0, len(f.st.ServiceAccounts))
	for k := range f.st.ServiceAccounts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*api.ServiceAccount
	for _, k := range keys {
		if cm := f.st.ServiceAccounts[k]; filter == nil || filter(cm) {
			out = append(out, copyServiceAccount(cm))
		}
	}
	return out, f.st.Index
}

// admitServiceAccount does what Kubernetes' ServiceAccount admission does
// to a new pod: it names the ServiceAccount the pod runs as in both
// serviceAccountName and the deprecated serviceAccount, and refuses a pod
// naming one the namespace does not hold. The namespace's `default` is
// let through while it is missing: the leader makes it right after the
// Namespace (agent/controllers/namespace.go), and a pod written in that
// moment must not fail for it; its token waits for it on the node.
func (s *state) admitServiceAccount(p *api.Pod) error {
	name := api.PodServiceAccount(&p.Spec)
	p.Spec.ServiceAccountName, p.Spec.DeprecatedServiceAccount = name, name
	if name == api.DefaultServiceAccount {
		return nil
	}
	ns := p.ObjectMeta.Namespace
	if _, ok := s.ServiceAccounts[api.Key(ns, name)]; !ok {
		return &ForbiddenError{Kind: kindPod, Namespace: ns, Name: p.ObjectMeta.Name,
			Reason: "error looking up service account " + ns + "/" + name + `: serviceaccount "` + name + `" not found`}
	}
	return nil
}
