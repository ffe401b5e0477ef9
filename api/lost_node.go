package api

import (
	"math"
	"time"
)

// The taints Kubernetes' node lifecycle controller puts on a node it has
// lost (unreachable: no word from the kubelet; not-ready: the kubelet says
// it is not ready). shoal puts neither on the Node: it reads a pod's
// NoExecute tolerations of them as how long the pod may stay bound to a
// node cut off from the fleet (LostNodeTolerance).
const (
	TaintNodeUnreachable = "node.kubernetes.io/unreachable"
	TaintNodeNotReady    = "node.kubernetes.io/not-ready"
)

// LostNodeTolerance is how long pod p may stay bound to a node the fleet
// has lost contact with, counted from the node's last contact: 0 when it
// tolerates neither taint (shoal's fast default, the node grace, applies),
// math.MaxInt64 (liveness.Forever) when it may stay for good. The leader
// and the cut-off node both read it, so they agree on every pod
// (agent/liveness.Budget.ForPod).
//
// For each taint it is Kubernetes' rule: the smallest tolerationSeconds of
// the NoExecute tolerations that match, for good only when none of them
// bounds it. shoal learns that a node is not ready only by losing contact
// with it, so it cannot tell the two taints apart: the longer of the two
// counts. A DaemonSet's pod belongs to its node and stays for good, as do
// bare pods (nothing may make them again elsewhere).
//
// Unlike Kubernetes, shoal adds no 300 s tolerations to pods that have
// none (the DefaultTolerationSeconds admission plugin): its default is
// the node grace, seconds, not minutes.
func LostNodeTolerance(p *Pod) time.Duration {
	ref := ControllerOf(p)
	if ref == nil || ref.Kind == KindDaemonSet {
		return math.MaxInt64
	}
	var best time.Duration
	for _, key := range []string{TaintNodeUnreachable, TaintNodeNotReady} {
		best = max(best, toleratedFor(p.Spec.Tolerations, &Taint{Key: key, Effect: TaintNoExecute}))
	}
	return best
}

// toleratedFor is how long tolerations let a pod stay on a node with the
// NoExecute taint: 0 when none matches.
func toleratedFor(tolerations []Toleration, taint *Taint) time.Duration {
	var (
		tolerated bool
		least     int64 = -1
	)
	for i := range tolerations {
		t := &tolerations[i]
		if !ToleratesTaint(t, taint) {
			continue
		}
		tolerated = true
		if t.TolerationSeconds == nil {
			continue
		}
		if s := max(*t.TolerationSeconds, 0); least < 0 || s < least {
			least = s
		}
	}
	switch {
	case !tolerated:
		return 0
	case least < 0:
		return math.MaxInt64
	case least >= math.MaxInt64/int64(time.Second):
		return math.MaxInt64
	}
	return time.Duration(least) * time.Second
}
