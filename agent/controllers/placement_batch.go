package controllers

import (
	"context"
	"fmt"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/placement"
)

// plannedBind is one pod and the node chosen for it.
type plannedBind struct {
	pod  *api.Pod
	node string
}

// planBinds chooses nodes for pending pods to bind side by side, at most
// one pod per node: each choice is then made on that node's committed
// usage, exactly as one bind after another would see it, and the node's
// lowest free IP is that pod's alone. A pod that fits only nodes already
// taken in this round waits for the next (the placement loop wakes again
// as soon as these binds commit); a pod that fits no node at all is
// returned in unfit, for the caller to record why. infos is reordered.
//
// placed is the pods already bound, for pods with pod (anti-)affinity or
// topology spread constraints (nil when no pending pod has them); each pod
// chosen here is added to it, so the next choice sees it.
func planBinds(pending []*api.Pod, infos []placement.NodeInfo, placed *placement.Placed) (binds []plannedBind, unfit []*api.Pod) {
	all := len(infos)
	for _, p := range pending {
		name, _, err := placement.ChooseAmong(p, infos, placed)
		if err != nil {
			if len(infos) == all {
				unfit = append(unfit, p)
			}
			continue
		}
		binds = append(binds, plannedBind{pod: p, node: name})
		for i := range infos {
			if infos[i].Node.ObjectMeta.Name == name {
				if placed != nil {
					placed.Add(p, infos[i].Node)
				}
				last := len(infos) - 1
				infos[i], infos[last] = infos[last], infos[i]
				infos = infos[:last]
				break
			}
		}
	}
	return binds, unfit
}

// placeSideBySide places pending pods: the binds planBinds chose go to
// Raft side by side (parallel.go), which commits them in one batch;
// one after another, a dozen replacements took a second of Raft rounds
// on a busy 20-node lab. A pod that fits nowhere goes through place,
// which records why.
func (l *Leader) placeSideBySide(ctx context.Context, pending []*api.Pod, infos []placement.NodeInfo) {
	placed := l.placedFor(pending)
	binds, unfit := planBinds(pending, infos, placed)
	for _, p := range unfit {
		infos = l.state.AppendNodeInfos(infos[:0])
		if err := l.place(ctx, p, infos, placed); err != nil && ctx.Err() == nil {
			l.log.Warn("place pod", "pod", api.KeyOf(p), "err", err)
		}
	}
	sideBySide(len(binds), leaderWrites, func(i int) {
		if err := l.bindChosen(ctx, binds[i].pod, binds[i].node); err != nil && ctx.Err() == nil {
			l.log.Warn("place pod", "pod", api.KeyOf(binds[i].pod), "err", err)
		}
	})
}

// bindChosen binds p to node with the node's lowest free IP; the state
// machine re-checks the fit when it commits.
func (l *Leader) bindChosen(ctx context.Context, p *api.Pod, node string) error {
	ip := "" // a hostNetwork pod takes its node's IP (consensus/hostports.go)
	if !p.Spec.HostNetwork {
		free, err := l.state.FreePodIP(node)
		if err != nil {
			return fmt.Errorf("allocate an IP on %s: %w", node, err)
		}
		ip = free.String()
	}
	_, err := l.seat.Apply(ctx, consensus.BindPod{Namespace: p.ObjectMeta.Namespace, Name: p.ObjectMeta.Name, UID: p.ObjectMeta.UID, Node: node, PodIP: ip, Time: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("bind to %s: %w", node, err)
	}
	l.log.Info("pod bound", "pod", api.KeyOf(p), "node", node, "ip", ip)
	l.events.LeaderEvent(p, api.EventNormal, "Scheduled", fmt.Sprintf("Successfully assigned %s to %s", api.KeyOf(p), node))
	l.metrics.Placed()
	return nil
}
