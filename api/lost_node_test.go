package api

import (
	"math"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestLostNodeTolerance(t *testing.T) {
	secs := func(s int64) *int64 { return &s }
	yes := true
	owned := func(kind string, tol ...Toleration) *Pod {
		p := &Pod{}
		p.OwnerReferences = []OwnerReference{{Kind: kind, Name: "x", Controller: &yes}}
		p.Spec.Tolerations = tol
		return p
	}
	unreach := func(s *int64) Toleration {
		return Toleration{Key: TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: TaintNoExecute, TolerationSeconds: s}
	}
	notReady := func(s *int64) Toleration {
		return Toleration{Key: TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: TaintNoExecute, TolerationSeconds: s}
	}
	forever := time.Duration(math.MaxInt64)
	cases := map[string]struct {
		p    *Pod
		want time.Duration
	}{
		"replica without tolerations": {owned(KindReplicationController), 0},
		"unreachable for 60s":         {owned(KindReplicaSet, unreach(secs(60))), time.Minute},
		"unreachable for good":        {owned(KindReplicaSet, unreach(nil)), forever},
		"not-ready for 30s":           {owned(KindReplicaSet, notReady(secs(30))), 30 * time.Second},
		"the longer of the two":       {owned(KindReplicaSet, unreach(secs(10)), notReady(secs(30))), 30 * time.Second},
		// Kubernetes' rule within one taint: the smallest bound wins.
		"bounded and unbounded": {owned(KindReplicaSet, unreach(nil), unreach(secs(5))), 5 * time.Second},
		"negative seconds":      {owned(KindReplicaSet, unreach(secs(-3))), 0},
		"huge seconds":          {owned(KindReplicaSet, unreach(secs(math.MaxInt64))), forever},
		"NoSchedule only":       {owned(KindReplicaSet, Toleration{Key: TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: TaintNoSchedule}), 0},
		"tolerate everything":   {owned(KindReplicaSet, Toleration{Operator: corev1.TolerationOpExists}), forever},
		"other key":             {owned(KindReplicaSet, Toleration{Key: "flaky", Operator: corev1.TolerationOpExists, Effect: TaintNoExecute}), 0},
		"bare pod":              {&Pod{}, forever},
		"daemon pod":            {owned(KindDaemonSet), forever},
		"daemon pod bounded":    {owned(KindDaemonSet, unreach(secs(5))), forever},
	}
	for name, tc := range cases {
		if got := LostNodeTolerance(tc.p); got != tc.want {
			t.Errorf("%s: LostNodeTolerance = %v, want %v", name, got, tc.want)
		}
	}
	// A DaemonSet's pod gets the daemon tolerations: unreachable and
	// not-ready for good (item 2 of issue 25).
	ds := &DaemonSet{}
	ds.Name = "d"
	if got := toleratedFor(PodFromDaemonSet(ds, "n1", "h").Spec.Tolerations, &Taint{Key: TaintNodeUnreachable, Effect: TaintNoExecute}); got != forever {
		t.Errorf("daemon pod's own tolerations: %v, want for good", got)
	}
}
