package node

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// keepInterval is how often a node cut off from the fleet looks at the
// pods it keeps: it restarts their crashed containers (by restartPolicy,
// with the runtime's back-off) this soon.
const keepInterval = time.Second

// keptPod is a pod a cut-off node keeps running, until its fence deadline
// (zero: for good).
type keptPod struct {
	pod   *api.Pod
	until time.Time
}

// keptPods is what this node keeps running while the fence loop finds it
// out of contact, at most once per keepInterval (nil otherwise): the pods
// of its last view (read, or restored from disk after a restart) that the
// fence has not stopped and that are not being deleted, each until the
// moment the fence stops it.
func (f *Fencer) keptPods(now time.Time) []keptPod {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.cutOff || now.Sub(f.lastKeep) < keepInterval {
		return nil
	}
	f.lastKeep = now
	var out []keptPod
	for i := range f.view {
		p := &f.view[i]
		uid := string(p.ObjectMeta.UID)
		if f.stopped[uid] || p.ObjectMeta.DeletionTimestamp != nil {
			continue
		}
		k := keptPod{pod: p}
		if after, ok := f.fenceAfter[uid]; ok {
			if k.until = f.lastContact.Add(after); !now.Before(k.until) {
				continue // the fence stops it now
			}
		}
		out = append(out, k)
	}
	return out
}

// keepCutOff does the node's own job for the pods it keeps while it is cut
// off from the fleet: their network, their containers restarted by
// restartPolicy, their probes (the runtime's SyncPod). It removes nothing
// and reports nothing: the fleet's view of them waits for contact. A pod
// with a fence deadline is synced under that deadline, so no start begun
// now can end after the fence has stopped it (the fence's KillPod waits
// for the runtime's lock on the pod, and kills what is there).
func (n *Reconciler) keepCutOff(ctx context.Context) {
	kept := n.d.Fence.keptPods(time.Now())
	var wg sync.WaitGroup
	for _, k := range kept {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kctx, cancel := ctx, context.CancelFunc(func() {})
			if !k.until.IsZero() {
				kctx, cancel = context.WithDeadline(ctx, k.until)
			}
			defer cancel()
			if err := n.keepPod(kctx, k.pod); err != nil && kctx.Err() == nil {
				n.cfg.Log.Warn("cut off: keep pod", "pod", api.KeyOf(k.pod), "err", err)
			}
		}()
	}
	wg.Wait()
}

func (n *Reconciler) keepPod(ctx context.Context, p *api.Pod) error {
	ip := net.ParseIP(p.Status.PodIP)
	if ip == nil {
		return fmt.Errorf("pod has no IP")
	}
	nsPath, err := n.d.Network.SetupPod(ctx, podNetID(string(p.ObjectMeta.UID)), ip)
	if err != nil {
		return fmt.Errorf("pod network: %w", err)
	}
	if err := n.d.Runtime.SyncPod(ctx, p, nsPath); err != nil {
		return fmt.Errorf("containers: %w", err)
	}
	return nil
}
