package podruntime

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// The real twin of the fakes behind kubectl top: a container that spins
// has its CPU time rise and its memory counted, read from its cgroup.
func TestUsageReadsARunningContainersCgroup(t *testing.T) {
	r := newTestRuntime(t)
	pod := newPod(t, "busy", api.RestartNever, shell("main", imageV1, "while :; do :; done"))
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "main") })
	uid := string(pod.ObjectMeta.UID)
	read := func() ContainerUsage {
		t.Helper()
		us, err := r.Usage(context.Background(), uid, []string{"main", "absent"})
		if err != nil || len(us) != 1 || us[0].Name != "main" {
			t.Fatalf("usage: %+v %v", us, err)
		}
		return us[0]
	}
	first := read()
	deadline := time.Now().Add(30 * time.Second)
	for {
		u := read()
		if u.CPU > first.CPU && u.WorkingSet > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU time did not rise: first %+v, last %+v", first, u)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
