package controllers

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// ServiceAccountStore is the part of the state that holds ServiceAccounts;
// a State without it (or without NamespaceStore) makes no default
// ServiceAccounts.
type ServiceAccountStore interface {
	ServiceAccounts(filter func(*api.ServiceAccount) bool) ([]*api.ServiceAccount, uint64)
}

var _ ServiceAccountStore = (*consensus.FSM)(nil)

// serviceAccountController keeps, while this server leads, a `default`
// ServiceAccount in every active Namespace, as Kubernetes' ServiceAccounts
// controller does: pods that name no ServiceAccount run as it. A deleted
// one comes back at the next pass; a Terminating namespace gets none (its
// finalization removes the one it had).
func (l *Leader) serviceAccountController(ctx context.Context) {
	ns, _ := l.state.(NamespaceStore)
	sas, _ := l.state.(ServiceAccountStore)
	if ns == nil || sas == nil {
		return
	}
	l.onEachChange(ctx, namespaceResync, func() {
		for _, name := range missingDefaultServiceAccounts(ns, sas) {
			sa := api.ServiceAccount{ObjectMeta: api.ObjectMeta{Namespace: name, Name: api.DefaultServiceAccount}}
			_, err := l.seat.Apply(ctx, consensus.ApplyServiceAccount{ServiceAccount: sa, Create: true, UID: uuid.NewUUID(), Time: time.Now().UTC()})
			switch {
			case err == nil:
				l.log.Info("serviceaccounts: created default", "namespace", name)
			case consensus.IsAlreadyExists(err), consensus.IsForbidden(err), consensus.IsNotFound(err), ctx.Err() != nil:
			default:
				l.log.Warn("serviceaccounts: create default", "namespace", name, "err", err)
			}
		}
	})
}

// missingDefaultServiceAccounts are the active Namespaces without a
// `default` ServiceAccount.
func missingDefaultServiceAccounts(ns NamespaceStore, sas ServiceAccountStore) []string {
	active, _ := ns.Namespaces(func(n *api.Namespace) bool { return n.DeletionTimestamp == nil })
	have, _ := sas.ServiceAccounts(func(sa *api.ServiceAccount) bool { return sa.Name == api.DefaultServiceAccount })
	exists := make(map[string]bool, len(have))
	for _, sa := range have {
		exists[sa.Namespace] = true
	}
	var out []string
	for _, n := range active {
		if !exists[n.Name] {
			out = append(out, n.Name)
		}
	}
	return out
}
