package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// claimReplicaSets is the Deployment's side of adoption and orphaning by
// label, as the replication controller does with pods and Kubernetes'
// deployment controller with ReplicaSets (ClaimReplicaSets): a ReplicaSet
// of its namespace without a controller whose labels its selector matches
// is adopted (one left by a delete with --cascade=orphan comes back under
// the new Deployment, so its pods are not replaced), and one it controls
// whose labels it no longer matches is released. It returns whether it
// changed anything; a ReplicaSet changed meanwhile waits for the next pass.
func (l *Leader) claimReplicaSets(ctx context.Context, d *api.Deployment, rss []api.Replicated) (bool, error) {
	if d.DeletionTimestamp != nil {
		return false, nil
	}
	sel, err := api.SelectorOf(d.Spec.Selector)
	if err != nil {
		return false, fmt.Errorf("selector: %w", err)
	}
	changed := false
	for _, obj := range rss {
		rs := obj.(*api.ReplicaSet)
		adopt, release := claim(d, sel, &rs.ObjectMeta)
		if !adopt && !release {
			continue
		}
		_, err := l.seat.Apply(ctx, consensus.SetControllerRef{Kind: consensus.KindReplicaSet, Namespace: rs.Namespace, Name: rs.Name,
			UID: rs.UID, ResourceVersion: rs.ResourceVersion, Owner: api.NewControllerRef(d), Adopt: adopt})
		if consensus.IsConflict(err) || consensus.IsNotFound(err) {
			continue
		}
		if err != nil {
			return changed, fmt.Errorf("claim replica set %s: %w", rs.Name, err)
		}
		changed = true
		what := "released replica set"
		if adopt {
			what = "adopted replica set"
		}
		l.log.Info(what, "deployment", d.Name, "replicaSet", rs.Name)
	}
	return changed, nil
}

// claim decides for one object of d's namespace: adopt it (no controller,
// labels selected) or release it (controlled by d, labels no longer
// selected).
func claim(d *api.Deployment, sel labels.Selector, m *api.ObjectMeta) (adopt, release bool) {
	if m.Namespace != d.Namespace || m.DeletionTimestamp != nil {
		return false, false
	}
	matches := !sel.Empty() && sel.Matches(labels.Set(m.Labels))
	ref := api.ControllerOfMeta(m)
	switch {
	case ref == nil:
		return matches, false
	case ref.UID == d.UID:
		return false, !matches
	}
	return false, false
}
