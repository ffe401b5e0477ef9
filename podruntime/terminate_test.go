package podruntime

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoal-dev/shoal/api"
)

// A pod deleted gracefully: the preStop hook runs first, then SIGTERM
// reaches the container, which exits on it; TerminatePod then removes the
// pod (its logs with it, so they are read before the removal).
func TestTerminatePodRunsPreStopThenSIGTERM(t *testing.T) {
	r := newTestRuntime(t)
	c := shell("main", imageV1, "trap 'echo got TERM; exit 0' TERM; echo started; while true; do sleep 0.2; done")
	c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &api.ExecAction{Command: []string{"sh", "-c", "echo preStop ran > /proc/1/fd/1"}}}}
	pod := newPod(t, "trap", api.RestartAlways, c)
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "main") })
	logPath := r.LogPath(string(pod.ObjectMeta.UID), "main")
	waitLog(t, logPath, "started")
	ctx := context.Background()
	if err := r.stopForDeletion(ctx, pod, time.Now().Add(time.Minute), true); err != nil {
		t.Fatal(err)
	}
	out := waitLog(t, logPath, "got TERM")
	if i := strings.Index(out, "preStop ran"); i < 0 || i > strings.Index(out, "got TERM") {
		t.Fatalf("want preStop's line before the TERM trap's; log:\n%s", out)
	}
	if err := r.TerminatePod(ctx, pod, time.Minute); err != nil {
		t.Fatal(err)
	}
	if uids, _ := r.ListPods(ctx); len(uids) != 0 {
		t.Fatalf("pods left after TerminatePod: %v", uids)
	}
	if _, err := os.Stat(logPath); !os.IsNotExist(err) {
		t.Errorf("log left after TerminatePod: %v", err)
	}
}

// A container that survives SIGTERM is SIGKILLed once the grace is up.
func TestTerminatePodKillsWhatOutlivesTheGrace(t *testing.T) {
	r := newTestRuntime(t)
	pod := newPod(t, "stubborn", api.RestartAlways,
		shell("main", imageV1, `trap 'echo TERM ignored; t=1' TERM; echo started; while true; do if [ -n "$t" ]; then echo still running after TERM; t=; fi; sleep 0.2; done`))
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "main") })
	logPath := r.LogPath(string(pod.ObjectMeta.UID), "main")
	waitLog(t, logPath, "started")
	ctx := context.Background()
	if err := r.stopForDeletion(ctx, pod, time.Now().Add(time.Second), true); err != nil {
		t.Fatal(err)
	}
	out := waitLog(t, logPath, "still running after TERM")
	if !strings.Contains(out, "TERM ignored") {
		t.Fatalf("log:\n%s", out)
	}
	cont, err := r.client.LoadContainer(r.withNS(ctx), containerID(string(pod.ObjectMeta.UID), "main"))
	if err != nil {
		t.Fatal(err)
	}
	if running, err := taskRunning(r.withNS(ctx), cont); err != nil || running {
		t.Fatalf("container still running after the grace (err %v)", err)
	}
	if err := r.TerminatePod(ctx, pod, time.Second); err != nil {
		t.Fatal(err)
	}
}

// postStart runs after the start; a failing one kills the container,
// which restarts by its policy.
func TestPostStartHook(t *testing.T) {
	r := newTestRuntime(t)
	ok := shell("ok", imageV1, "echo started; exec sleep 1000")
	ok.Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &api.ExecAction{Command: []string{"sh", "-c", "echo postStart ran > /proc/1/fd/1"}}}}
	bad := shell("bad", imageV1, "exec sleep 1000")
	bad.Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &api.ExecAction{Command: []string{"sh", "-c", "exit 3"}}}}
	pod := newPod(t, "hooks", api.RestartAlways, ok, bad)
	syncUntil(t, r, pod, "", "bad restarted, ok running", func(st api.PodStatus) bool {
		return running(st, "ok") && containerStatusOf(t, st, "bad").RestartCount > 0
	})
	waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "ok"), "postStart ran")
	if err := r.RemovePod(context.Background(), string(pod.ObjectMeta.UID)); err != nil {
		t.Fatal(err)
	}
}
