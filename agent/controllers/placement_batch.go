package controllers

import (
	"context"
	"fmt"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/placement"
)

// bindsPerEntry bounds one BindPods entry: a bind is about 200 bytes, so
// an entry stays well under a Raft append's comfortable size, and a pass
// of 10,000 is a few entries committed side by side.
const bindsPerEntry = 1000

// plannedBind is one pod, the node chosen for it and the IP it gets there
// ("" for a hostNetwork pod, which takes its node's).
type plannedBind struct {
	pod  *api.Pod
	node string
	ip   string
}

// planBinds chooses nodes for pending pods, as many per node as fit: after
// each choice the node's entry in infos counts the chosen pod (assume), so
// the next choice sees the node's usage, pod count and host ports exactly
// as one bind after another would, and the state machine, which checks
// every bind of a BindPods against those before it, accepts the plan. A
// pod that fits no node with this pass's choices counted, but would fit
// what is committed, waits for the next pass (the placement loop wakes as
// soon as these binds commit); a pod that fits no node even then is
// returned in unfit, for the caller to record why. infos is changed: its
// entries are replaced, never the maps they share with the state.
//
// placed is the pods already bound, for pods with pod (anti-)affinity or
// topology spread constraints (nil when no pending pod has them); each pod
// chosen here is added to it, so the next choice sees it.
func planBinds(pending []*api.Pod, infos []placement.NodeInfo, placed *placement.Placed) (binds []plannedBind, unfit []*api.Pod) {
	var committed []placement.NodeInfo // infos before the first choice
	at := make(map[string]int, len(infos))
	for i := range infos {
		at[infos[i].Node.ObjectMeta.Name] = i
	}
	for _, p := range pending {
		name, _, err := placement.ChooseAmong(p, infos, placed)
		if err != nil {
			if committed == nil {
				unfit = append(unfit, p)
			} else if _, _, err := placement.ChooseAmong(p, committed, placed); err != nil {
				unfit = append(unfit, p)
			}
			continue
		}
		if committed == nil {
			committed = append([]placement.NodeInfo(nil), infos...)
		}
		i := at[name]
		infos[i] = assume(infos[i], p)
		if placed != nil {
			placed.Add(p, infos[i].Node)
		}
		binds = append(binds, plannedBind{pod: p, node: name})
	}
	return binds, unfit
}

// assume is n with p counted on it, as the state's indexes count a bound
// pod (consensus/index.go): its requests, one pod, its host ports. The
// maps are new; the ones n holds are the state's, shared and read-only.
func assume(n placement.NodeInfo, p *api.Pod) placement.NodeInfo {
	req := make(api.ResourceList, len(n.Requested)+2)
	for k, q := range n.Requested {
		req[k] = q.DeepCopy()
	}
	for k, q := range api.PodRequests(p) {
		sum := req[k]
		sum.Add(q)
		req[k] = sum
	}
	n.Requested = req
	n.Pods++
	if ports := api.HostPorts(p); p.Spec.HostNetwork && len(ports) > 0 {
		next := make(map[string]int, len(n.HostPorts)+len(ports))
		for k, v := range n.HostPorts {
			next[k] = v
		}
		for _, port := range ports {
			next[port]++
		}
		n.HostPorts = next
	}
	return n
}

// giveIPs gives every planned bind that needs one an IP of its node's
// block: the node's lowest free ones, one each, so no two binds of the
// pass share one. A bind its node's block has no IP left for is dropped
// from the plan (returned in short), as the state machine would refuse it.
func giveIPs(binds []plannedBind, free func(node string, n int) ([]string, error)) (out []plannedBind, short map[string]error) {
	want := map[string]int{}
	for _, b := range binds {
		if !b.pod.Spec.HostNetwork {
			want[b.node]++
		}
	}
	ips := make(map[string][]string, len(want))
	for node, n := range want {
		got, err := free(node, n)
		if err != nil {
			if short == nil {
				short = map[string]error{}
			}
			short[node] = err
		}
		ips[node] = got
	}
	out = binds[:0]
	for _, b := range binds {
		if !b.pod.Spec.HostNetwork {
			left := ips[b.node]
			if len(left) == 0 {
				continue
			}
			b.ip, ips[b.node] = left[0], left[1:]
		}
		out = append(out, b)
	}
	return out, short
}

// placeSideBySide places pending pods: the binds planBinds chose go to
// Raft as BindPods entries of up to bindsPerEntry, side by side
// (parallel.go): a pass of 1,000 pods on 10 nodes is one entry where it
// was 100 rounds of one bind per node. A pod that fits nowhere goes
// through place, which records why.
func (l *Leader) placeSideBySide(ctx context.Context, pending []*api.Pod, infos []placement.NodeInfo) {
	placed := l.placedFor(pending)
	binds, unfit := planBinds(pending, infos, placed)
	for _, p := range unfit {
		infos = l.state.AppendNodeInfos(infos[:0])
		if err := l.place(ctx, p, infos, placed); err != nil && ctx.Err() == nil {
			l.log.Warn("place pod", "pod", api.KeyOf(p), "err", err)
		}
	}
	binds, short := giveIPs(binds, l.freePodIPs)
	for node, err := range short {
		l.log.Warn("place pods", "node", node, "err", err)
	}
	chunks := (len(binds) + bindsPerEntry - 1) / bindsPerEntry
	sideBySide(chunks, leaderWrites, func(i int) {
		chunk := binds[i*bindsPerEntry : min(len(binds), (i+1)*bindsPerEntry)]
		if err := l.bindMany(ctx, chunk); err != nil && ctx.Err() == nil {
			l.log.Warn("place pods", "pods", len(chunk), "err", err)
		}
	})
}

// freePodIPs is the state's lowest free IPs of node's block, as strings.
func (l *Leader) freePodIPs(node string, n int) ([]string, error) {
	ips, err := l.state.FreePodIPs(node, n)
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	if err != nil {
		err = fmt.Errorf("allocate %d IPs on %s: %w", n, node, err)
	}
	return out, err
}

// bindMany commits binds as one BindPods entry; the state machine checks
// each as a BindPod and refuses each alone, and a refused pod stays
// pending for the next pass.
func (l *Leader) bindMany(ctx context.Context, binds []plannedBind) error {
	now := time.Now().UTC()
	cmd := consensus.BindPods{Binds: make([]consensus.BindPod, len(binds))}
	for i, b := range binds {
		p := b.pod
		cmd.Binds[i] = consensus.BindPod{Namespace: p.ObjectMeta.Namespace, Name: p.ObjectMeta.Name, UID: p.ObjectMeta.UID, Node: b.node, PodIP: b.ip, Time: now}
	}
	res, err := l.seat.Apply(ctx, cmd)
	if err != nil {
		return fmt.Errorf("bind %d pods: %w", len(binds), err)
	}
	batch, _ := l.events.(BatchRecorder)
	var events []LeaderEvent
	for i, b := range binds {
		if i < len(res.Each) && res.Each[i] != nil {
			if ctx.Err() == nil {
				l.log.Warn("place pod", "pod", api.KeyOf(b.pod), "node", b.node, "err", res.Each[i])
			}
			continue
		}
		if batch == nil {
			l.bound(b.pod, b.node, b.ip)
			continue
		}
		l.log.Debug("pod bound", "pod", api.KeyOf(b.pod), "node", b.node, "ip", b.ip)
		l.metrics.Placed()
		events = append(events, scheduled(b.pod, b.node))
	}
	if len(events) > 0 {
		l.log.Info("pods bound", "pods", len(events), "index", res.Index)
		batch.LeaderEvents(events)
	}
	return nil
}

// LeaderEvent is one event the leader records about a pod.
type LeaderEvent struct {
	Pod                   *api.Pod
	Type, Reason, Message string
}

// BatchRecorder is a Recorder that stores many events in one write: a
// pass's Scheduled events, which one write each made as many Raft entries
// as the pass bound pods. It must not block.
type BatchRecorder interface {
	LeaderEvents(events []LeaderEvent)
}

func scheduled(p *api.Pod, node string) LeaderEvent {
	return LeaderEvent{Pod: p, Type: api.EventNormal, Reason: "Scheduled", Message: fmt.Sprintf("Successfully assigned %s to %s", api.KeyOf(p), node)}
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
	l.bound(p, node, ip)
	return nil
}

// bound tells of a committed bind: log, event, metric.
func (l *Leader) bound(p *api.Pod, node, ip string) {
	l.log.Info("pod bound", "pod", api.KeyOf(p), "node", node, "ip", ip)
	ev := scheduled(p, node)
	l.events.LeaderEvent(p, ev.Type, ev.Reason, ev.Message)
	l.metrics.Placed()
}
