package controllers

import (
	"context"
	"errors"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/placement"
)

// placementController places every pending pod as a whole: it picks a node
// (placement.Choose) and an IP from that node's block, and proposes the
// binding; the state machine re-checks the fit when it commits.
func (l *Leader) placementController(ctx context.Context) {
	var after uint64
	var infos []placement.NodeInfo
	for {
		idx, err := l.state.WaitIndex(ctx, after)
		if err != nil {
			return
		}
		after = idx
		pending, _ := l.state.Pods(func(p *api.Pod) bool { return !consensus.Bound(p) && !consensus.Terminal(p) })
		if len(pending) == 0 {
			continue
		}
		// One list reused for every pass: on a large fleet a fresh one
		// per pod was most of what placing it allocated.
		infos = l.state.AppendNodeInfos(infos[:0])
		l.placeSideBySide(ctx, pending, infos) // placement_batch.go
	}
}

func (l *Leader) place(ctx context.Context, p *api.Pod, infos []placement.NodeInfo, placed *placement.Placed) error {
	nodeName, noFit, err := placement.ChooseAmong(p, infos, placed)
	if errors.Is(err, placement.ErrNoFit) {
		l.metrics.PlacementFailed()
		msg := noFit.String()
		if c := podCondition(p, "PodScheduled"); c != nil && c.Message == msg {
			return nil
		}
		_, err := l.seat.Apply(ctx, consensus.SetPodUnschedulable{Namespace: p.ObjectMeta.Namespace, Name: p.ObjectMeta.Name, UID: p.ObjectMeta.UID, Message: msg, Time: time.Now().UTC()})
		if err == nil {
			l.events.LeaderEvent(p, api.EventWarning, "FailedScheduling", msg)
		}
		return err
	}
	if err != nil {
		return err
	}
	return l.bindChosen(ctx, p, nodeName) // placement_batch.go
}

// placedFor is the pods already bound, copied whole only when a pending
// pod has pod (anti-)affinity or topology spread constraints: most rounds
// place pods without them and copy only the bound pods whose required
// anti-affinity keeps others out (usually none), for Kubernetes' symmetry.
func (l *Leader) placedFor(pending []*api.Pod) *placement.Placed {
	need := false
	for _, p := range pending {
		need = need || placement.NeedsPlaced(p)
	}
	bound, _ := l.state.Pods(func(p *api.Pod) bool {
		return consensus.Bound(p) && !consensus.Terminal(p) && (need || placement.RepelsOthers(p))
	})
	if !need && len(bound) == 0 {
		return nil
	}
	nodes, _ := l.state.Nodes()
	return placement.NewPlaced(bound, nodes)
}

func podCondition(p *api.Pod, typ api.PodConditionType) *api.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == typ {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}
