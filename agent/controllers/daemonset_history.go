package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// A DaemonSet's template history, as Kubernetes keeps it: one
// ControllerRevision per template, named <daemonset>-<template hash>, whose
// data is the patch that puts the template back (what kubectl rollout undo
// applies) and whose revision numbers the templates in the order they were
// rolled out (a template rolled back to gets a new number).

// ControllerRevisionStore is the part of the state that holds
// ControllerRevisions; a State without it keeps no DaemonSet history.
type ControllerRevisionStore interface {
	ControllerRevisions(filter func(*api.ControllerRevision) bool) ([]*api.ControllerRevision, uint64)
}

var _ ControllerRevisionStore = (*consensus.FSM)(nil)

// changeCauseAnnotation is copied from the DaemonSet to its revision:
// kubectl rollout history shows it as CHANGE-CAUSE.
const changeCauseAnnotation = "kubernetes.io/change-cause"

// daemonSetPatch is the revision data of ds's template: the strategic
// merge patch that replaces the template, byte for byte what kubectl
// rollout undo computes to tell whether a revision is the current one.
func daemonSetPatch(ds *api.DaemonSet) ([]byte, error) {
	js, err := json.Marshal(ds)
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, err
	}
	template, _ := raw["spec"].(map[string]any)["template"].(map[string]any)
	if template == nil {
		return nil, fmt.Errorf("daemon set %s has no template", ds.Name)
	}
	template["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": template}})
}

// historyStep is what one pass does to ds's revisions: pure, so that it is
// tested without Raft.
type historyStep struct {
	put    *api.ControllerRevision // create, or renumber, the current one
	remove []*api.ControllerRevision
}

// planHistory decides ds's revisions given its own (revs), the hash of its
// template and the hashes its live pods carry (their revisions are kept
// whatever the limit).
func planHistory(ds *api.DaemonSet, hash string, revs []*api.ControllerRevision, live map[string]bool) (historyStep, error) {
	var step historyStep
	name := ds.Name + "-" + hash
	var (
		cur    *api.ControllerRevision
		others []*api.ControllerRevision
		newest int64
	)
	for _, r := range revs {
		if r.Name == name {
			cur = r
			continue
		}
		others = append(others, r)
		newest = max(newest, r.Revision)
	}
	switch {
	case cur == nil:
		data, err := daemonSetPatch(ds)
		if err != nil {
			return step, err
		}
		labels := map[string]string{api.ControllerRevisionHashLabel: hash}
		for k, v := range ds.Spec.Template.Labels {
			labels[k] = v
		}
		cr := &api.ControllerRevision{
			TypeMeta: api.TypeMeta{APIVersion: api.AppsV1, Kind: api.KindControllerRevision},
			ObjectMeta: api.ObjectMeta{Name: name, Namespace: ds.Namespace, Labels: labels,
				OwnerReferences: []api.OwnerReference{api.NewControllerRef(ds)}},
			Data: runtime.RawExtension{Raw: data}, Revision: newest + 1,
		}
		if cause, ok := ds.Annotations[changeCauseAnnotation]; ok {
			cr.Annotations = map[string]string{changeCauseAnnotation: cause}
		}
		step.put = cr
	case cur.Revision <= newest:
		cr := cur.DeepCopy()
		cr.Revision = newest + 1
		if cause, ok := ds.Annotations[changeCauseAnnotation]; ok {
			if cr.Annotations == nil {
				cr.Annotations = map[string]string{}
			}
			cr.Annotations[changeCauseAnnotation] = cause
		}
		step.put = cr
	}
	limit := api.DefaultRevisionHistoryLimit
	if l := ds.Spec.RevisionHistoryLimit; l != nil {
		limit = int(*l)
	}
	var spare []*api.ControllerRevision
	for _, r := range others {
		if !live[r.Labels[api.ControllerRevisionHashLabel]] {
			spare = append(spare, r)
		}
	}
	sort.Slice(spare, func(i, j int) bool { return spare[i].Revision < spare[j].Revision })
	if extra := len(spare) - limit; extra > 0 {
		step.remove = spare[:extra]
	}
	return step, nil
}

// syncHistory writes what planHistory decides.
func (l *Leader) syncHistory(ctx context.Context, ds *api.DaemonSet, hash string, pods []*api.Pod) error {
	crs, _ := l.state.(ControllerRevisionStore)
	if crs == nil {
		return nil
	}
	revs, _ := crs.ControllerRevisions(func(r *api.ControllerRevision) bool {
		ref := api.ControllerOfMeta(&r.ObjectMeta)
		return r.Namespace == ds.Namespace && ref != nil && ref.UID == ds.UID
	})
	live := map[string]bool{}
	for _, p := range pods {
		if ref := api.ControllerOf(p); ref != nil && ref.UID == ds.UID {
			live[p.Labels[api.ControllerRevisionHashLabel]] = true
		}
	}
	step, err := planHistory(ds, hash, revs, live)
	if err != nil {
		return err
	}
	if step.put != nil {
		_, err := l.seat.Apply(ctx, consensus.PutControllerRevision{Revision: *step.put, UID: uuid.NewUUID(), Time: time.Now().UTC()})
		if err != nil && !consensus.IsConflict(err) {
			return fmt.Errorf("record revision %s: %w", step.put.Name, err)
		}
	}
	for _, r := range step.remove {
		_, err := l.seat.Apply(ctx, consensus.DeleteControllerRevision{Namespace: r.Namespace, Name: r.Name, UID: r.UID})
		if err != nil && !consensus.IsNotFound(err) && !consensus.IsConflict(err) {
			return fmt.Errorf("prune revision %s: %w", r.Name, err)
		}
	}
	return nil
}
