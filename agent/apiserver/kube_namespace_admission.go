package apiserver

import (
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// namespaceAdmitter is the state's NamespaceLifecycle rule
// (consensus.FSM.NamespaceAdmits).
type namespaceAdmitter interface {
	NamespaceAdmits(kind, name, ns string) error
}

// admitNamespace is Kubernetes' NamespaceLifecycle admission, in the one
// place every namespaced kind's create passes through (writeResource: a
// POST, or a PUT of an object that does not exist yet): a new object in a
// namespace that does not exist is refused with 404 `namespaces "x" not
// found`, in one being deleted with 403 `... is forbidden: unable to create
// new content in namespace x because it is being terminated`. Updates of
// existing objects pass, as in Kubernetes. It runs on the leader, against
// the newest state, as Kubernetes' admission does, so a create that races
// a namespace's finalization can still land after it; the next leader
// stores a Namespace for such an object (controllers/namespace.go), so it
// is listed and can be deleted.
func (srv *Server) admitNamespace(res writable, obj api.Object, create bool) error {
	m := res.meta()
	if m.cluster {
		return nil
	}
	st, ok := srv.fsm().(namespaceAdmitter)
	if !ok {
		return nil // a state without Namespaces: every namespace exists
	}
	meta := api.MetaOf(obj)
	if !create {
		if _, err := res.get(srv.fsm(), meta.Namespace, meta.Name); !consensus.IsNotFound(err) {
			return nil // an update, or an error the write will meet again
		}
	}
	return st.NamespaceAdmits(m.kind, meta.Name, meta.Namespace)
}
