package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/shoal-dev/shoal/deploy/lab"
)

// containerdRestart kills the lab's containerd (the lab shares one across
// its nodes, so every node loses it at once), writes while it is gone,
// starts it again after the hold and checks after the heal what every
// heal is checked for (settle), and that no container was restarted or
// lost by it (h): the shims keep the containers, and an agent that took
// containerd's absence for the containers' must not start them again.
func (r *Runner) containerdRestart(ctx context.Context, ep Episode) {
	start := time.Now()
	r.rep.episodeBegan(ep.Kind, start)
	defer func() { r.rep.episodeEnded(time.Now()) }()
	before, err := r.observe(ctx, nil)
	if err != nil {
		r.logf("  containerd restart: read the fleet before: %v", err)
		return
	}
	if err := lab.KillContainerd(ctx, r.cfg.StateRoot, r.cfg.Name); err != nil {
		r.logf("  containerd restart: %v", err)
		return
	}
	r.mu.Lock()
	r.ctrDown = true
	r.mu.Unlock()
	r.rep.fault(ep.Kind)
	r.logf("  containerd killed (shared by all %d nodes), %d pods Running before", len(r.fl.NodeNames()), len(before.Pods))

	r.runOps(ctx, ep.Ops)
	_ = sleep(ctx, ep.Hold)
	healAt := time.Now()
	if !r.startContainerd(ctx) {
		return
	}
	if d, ok := r.waitRecovered(ctx, nil); ok {
		r.rep.recovered(ep.Kind, time.Since(healAt))
		r.logf("  containerd back; replicas at count %v after it", d.Round(100*time.Millisecond))
	}
	when := fmt.Sprintf("episode %d containerd restarted", ep.N)
	r.settle(ctx, when, nil)
	after, err := r.observe(ctx, nil)
	r.rep.checked(InvKeptRunning)
	if err != nil {
		r.violation(InvKeptRunning, fmt.Sprintf("%s: could not read the fleet: %v", when, err))
		return
	}
	for _, s := range Restarted(before.Pods, after.Pods) {
		r.violation(InvKeptRunning, when+": "+s)
	}
}

// startContainerd starts the lab's containerd again if the runner killed
// it; false when that failed (a violation: the fleet cannot run pods).
func (r *Runner) startContainerd(ctx context.Context) bool {
	r.mu.Lock()
	down := r.ctrDown
	r.mu.Unlock()
	if !down {
		return true
	}
	if err := lab.StartContainerd(ctx, r.cfg.StateRoot, r.cfg.Name); err != nil {
		r.violation(InvContainerd, fmt.Sprintf("containerd did not start again: %v", err))
		return false
	}
	r.mu.Lock()
	r.ctrDown = false
	r.mu.Unlock()
	return true
}
