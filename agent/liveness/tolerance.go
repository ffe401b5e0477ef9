package liveness

import (
	"fmt"
	"math"
	"time"
)

// Forever is the tolerance of a pod that may stay on a lost node for good
// (a toleration of node.kubernetes.io/unreachable without
// tolerationSeconds, a DaemonSet's pod): the leader never replaces it and
// its node never stops it for lack of contact.
const Forever = time.Duration(math.MaxInt64)

// PodBudget is the fencing rule for one pod: its node stops it once it has
// been cut off for FenceAfter, and the leader replaces it no earlier than
// ReplaceAfter after the node's last contact (t0), both Forever for a pod
// tolerated for good.
type PodBudget struct {
	FenceAfter   time.Duration
	ReplaceAfter time.Duration
}

// ForPod is the budget of a pod that tolerates losing its node for
// tolerated (its tolerationSeconds; 0 when it has no such toleration,
// Forever when it has one without bound). The leader replaces it once the
// toleration has run out counting from t0, never before the node grace
// (the node is not lost before then; a pod without a toleration gets
// shoal's fast default, the grace itself). The node keeps it as long as it
// can: the same loop period, check, stop and margin as Budget.Check's
// rule are kept before the replacement, so FenceAfter moves exactly as far
// as the replacement does.
func (b Budget) ForPod(tolerated time.Duration) PodBudget {
	if tolerated >= Forever {
		return PodBudget{FenceAfter: Forever, ReplaceAfter: Forever}
	}
	replace := max(b.EarliestReplacement(), tolerated)
	return PodBudget{FenceAfter: b.FenceAfter + (replace - b.EarliestReplacement()), ReplaceAfter: replace}
}

// CheckPod is the rule for one pod, Budget.Check's inequality with the
// pod's own timings:
//
//	FenceAfter(p) + FenceInterval + CheckTimeout + StopBudget + Margin <= ReplaceAfter(p)
//	NodeGrace <= ReplaceAfter(p)
//
// and, so that a tolerated pod keeps running as long as it may, the node
// stops it no earlier than the budget requires: FenceAfter(p) is at least
// ReplaceAfter(p) less the grace plus FenceAfter (Forever only together).
func (b Budget) CheckPod(p PodBudget) error {
	if err := b.Check(); err != nil {
		return err
	}
	if p.ReplaceAfter < b.EarliestReplacement() {
		return fmt.Errorf("liveness: a pod replaced %v after its node's last contact, before the node grace %v: the node is not lost yet and may still run it", p.ReplaceAfter, b.EarliestReplacement())
	}
	if p.ReplaceAfter == Forever {
		if p.FenceAfter != Forever {
			return fmt.Errorf("liveness: a pod tolerated for good is stopped after %v cut off: its node stops it though the leader never replaces it", p.FenceAfter)
		}
		return nil
	}
	tail := b.FenceInterval + b.CheckTimeout + b.StopBudget + b.Margin
	if p.FenceAfter > p.ReplaceAfter || p.FenceAfter+tail > p.ReplaceAfter {
		return fmt.Errorf("liveness: a cut-off node may still run a pod %v after it lost contact (fence after %v + interval %v + check %v + stop %v + margin %v), but the leader may replace it at %v",
			satAdd(p.FenceAfter, tail), p.FenceAfter, b.FenceInterval, b.CheckTimeout, b.StopBudget, b.Margin, p.ReplaceAfter)
	}
	if early := p.ReplaceAfter - (b.EarliestReplacement() - b.FenceAfter); p.FenceAfter < early {
		return fmt.Errorf("liveness: a pod the leader replaces only %v after its node's last contact is stopped after %v cut off, earlier than the %v the rule needs", p.ReplaceAfter, p.FenceAfter, early)
	}
	return nil
}

func satAdd(a, b time.Duration) time.Duration {
	if a > Forever-b {
		return Forever
	}
	return a + b
}
