package podruntime

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// KillPod, fencing's stop, kills at once: a container that ignores
// SIGTERM under a stop grace of an hour is gone, and the pod removed,
// long before that grace (RemovePod would wait it out).
func TestKillPodKillsWithoutTheStopGrace(t *testing.T) {
	r := newTestRuntime(t, func(c *Config) { c.StopGrace = time.Hour })
	pod := newPod(t, "fenced", api.RestartAlways,
		shell("main", imageV1, `trap 'echo TERM ignored' TERM; echo started; while true; do sleep 0.2; done`))
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "main") })
	waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "main"), "started")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.KillPod(ctx, string(pod.ObjectMeta.UID)); err != nil {
		t.Fatalf("KillPod under a stop grace of an hour: %v", err)
	}
	if uids, _ := r.ListPods(context.Background()); len(uids) != 0 {
		t.Fatalf("pods left after KillPod: %v", uids)
	}
}
