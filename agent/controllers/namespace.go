package controllers

import (
	"context"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// NamespaceStore is the part of the state that holds Namespaces and reads
// every stored object's name and owners; a State without it runs no
// namespace controller and no garbage collector.
type NamespaceStore interface {
	Namespaces(filter func(*api.Namespace) bool) ([]*api.Namespace, uint64)
	ObjectRefs() ([]consensus.ObjectRef, uint64)
}

var _ NamespaceStore = (*consensus.FSM)(nil)

// namespaceResync bounds how long a failed step waits for its retry.
const namespaceResync = 2 * time.Second

// namespaceController keeps, while this server leads, the fleet's
// Namespaces: once per term it stores the system namespaces and one for
// every namespace that holds objects but has no Namespace (a state from
// before Namespaces were objects), and at every change it finalizes each
// Terminating Namespace: FinalizeNamespace removes every object left in
// it and then the Namespace, in one entry.
func (l *Leader) namespaceController(ctx context.Context) {
	ns, _ := l.state.(NamespaceStore)
	if ns == nil {
		return
	}
	ensured := false
	l.onEachChange(ctx, namespaceResync, func() {
		if !ensured {
			ensured = l.ensureNamespaces(ctx, ns)
		}
		l.finalizeNamespaces(ctx, ns)
	})
}

// ensureNamespaces creates the missing Namespaces missingNamespaces names;
// true once none is missing.
func (l *Leader) ensureNamespaces(ctx context.Context, st NamespaceStore) bool {
	have, _ := st.Namespaces(nil)
	refs, _ := st.ObjectRefs()
	ok := true
	for _, name := range missingNamespaces(have, refs) {
		n := api.Namespace{ObjectMeta: api.ObjectMeta{Name: name}}
		_, err := l.seat.Apply(ctx, consensus.ApplyNamespace{Namespace: n, Create: true, UID: uuid.NewUUID(), Time: time.Now().UTC()})
		if err != nil && !consensus.IsAlreadyExists(err) {
			ok = false
			if ctx.Err() == nil {
				l.log.Warn("namespaces: create", "namespace", name, "err", err)
			}
			continue
		}
		if err == nil {
			l.log.Info("namespaces: created", "namespace", name)
		}
	}
	return ok
}

// missingNamespaces are the system namespaces and the namespaces objects
// live in that have no Namespace, sorted.
func missingNamespaces(have []*api.Namespace, refs []consensus.ObjectRef) []string {
	exists := map[string]bool{}
	for _, n := range have {
		exists[n.Name] = true
	}
	want := map[string]bool{}
	for _, name := range api.SystemNamespaces {
		want[name] = true
	}
	for _, r := range refs {
		if r.Namespace != "" {
			want[r.Namespace] = true
		}
	}
	var out []string
	for name := range want {
		if !exists[name] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// finalizeNamespaces applies FinalizeNamespace to every Terminating
// Namespace. A Namespace re-created or finalized meanwhile (Conflict,
// NotFound) is no error.
func (l *Leader) finalizeNamespaces(ctx context.Context, st NamespaceStore) {
	terminating, _ := st.Namespaces(func(n *api.Namespace) bool { return n.DeletionTimestamp != nil })
	for _, n := range terminating {
		_, err := l.seat.Apply(ctx, consensus.FinalizeNamespace{Name: n.Name, UID: n.UID})
		switch {
		case err == nil:
			l.log.Info("namespaces: deleted with its content", "namespace", n.Name)
		case consensus.IsNotFound(err), consensus.IsConflict(err), ctx.Err() != nil:
		default:
			l.log.Warn("namespaces: finalize", "namespace", n.Name, "err", err)
		}
	}
}
