package controllers

import (
	"context"
	"time"

	"github.com/shoal-dev/shoal/consensus"
)

// gcInterval is how often the garbage collector looks for objects whose
// owners are all gone. A delete through the API already takes an
// object's dependents in the same entry (consensus.DeleteObject), so the
// collector only finds what no delete took: objects created with owner
// references to UIDs that do not exist, or left by a state from before
// deletes cascaded. A periodic pass keeps its cost (one read of every
// object's owners) off every state change.
const gcInterval = 2 * time.Second

// garbageCollector deletes, while this server leads, every object whose
// owner references all name gone owners of kinds the state holds, as
// Kubernetes' garbage collector does with propagationPolicy Background.
// An object with no owner reference, or one owner still there, or an
// owner of a kind shoal does not store, stays.
func (l *Leader) garbageCollector(ctx context.Context) {
	st, _ := l.state.(NamespaceStore)
	if st == nil {
		return
	}
	t := time.NewTicker(gcInterval)
	defer t.Stop()
	for {
		l.collectGarbage(ctx, st)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// collectGarbage is one pass; it returns how many objects it deleted.
func (l *Leader) collectGarbage(ctx context.Context, st NamespaceStore) int {
	refs, _ := st.ObjectRefs()
	n := 0
	for _, g := range garbage(refs) {
		_, err := l.seat.Apply(ctx, consensus.DeleteObject{Kind: g.Kind, Namespace: g.Namespace, Name: g.Name, UID: g.UID,
			Propagation: consensus.PropagateBackground})
		switch {
		case err == nil:
			n++
			l.log.Info("garbage collector: deleted an object whose owners are gone", "kind", g.Kind, "namespace", g.Namespace, "name", g.Name)
		case consensus.IsNotFound(err), consensus.IsConflict(err), ctx.Err() != nil:
		default:
			l.log.Warn("garbage collector: delete", "kind", g.Kind, "namespace", g.Namespace, "name", g.Name, "err", err)
		}
	}
	return n
}

// garbage are the objects of refs whose owners are all gone, as the state
// found them when it read refs (consensus.OwnersGone: each owner looked up
// by kind, namespace and name, with its UID).
func garbage(refs []consensus.ObjectRef) []consensus.ObjectRef {
	var out []consensus.ObjectRef
	for _, r := range refs {
		if r.OwnersGone {
			out = append(out, r)
		}
	}
	return out
}
