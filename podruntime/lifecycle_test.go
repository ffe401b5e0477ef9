package podruntime

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"

	containerd "github.com/containerd/containerd"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/snapshots"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
)

func TestExitCodeWithRestartNeverIsTerminatedAndPodFailed(t *testing.T) {
	r := newTestRuntime(t)
	pod := newPod(t, "fails", api.RestartNever, shell("main", imageV1, "exit 3"))
	st := syncUntil(t, r, pod, "", "phase Failed", func(st api.PodStatus) bool { return st.Phase == api.PodFailed })
	term := terminated(st, "main")
	if term == nil || term.ExitCode != 3 || term.Reason != "Error" {
		t.Fatalf("main state %+v, want terminated exitCode 3 reason Error", containerStatusOf(t, st, "main").State)
	}
	if cs := containerStatusOf(t, st, "main"); cs.RestartCount != 0 || cs.Ready {
		t.Errorf("restartCount %d ready %v, want 0 and false", cs.RestartCount, cs.Ready)
	}
}

func TestRestartNeverExitZeroSucceeds(t *testing.T) {
	r := newTestRuntime(t)
	pod := newPod(t, "job", api.RestartOnFailure, shell("main", imageV1, "echo done"))
	st := syncUntil(t, r, pod, "", "phase Succeeded", func(st api.PodStatus) bool { return st.Phase == api.PodSucceeded })
	if term := terminated(st, "main"); term == nil || term.Reason != "Completed" {
		t.Errorf("main state %+v, want terminated Completed", containerStatusOf(t, st, "main").State)
	}
	waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "main"), "done")
}

func TestContainerKilledBySIGKILLReports137(t *testing.T) {
	r := newTestRuntime(t)
	pod := newPod(t, "victim", api.RestartNever, shell("main", imageV1, "exec sleep 1000"))
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "main") })

	// The container's pid 1 is immune to signals from inside its own pid
	// namespace, so the kill -9 comes from outside, as the OOM killer's would.
	ctx := r.withNS(context.Background())
	cont, err := r.client.LoadContainer(ctx, containerID(string(pod.ObjectMeta.UID), "main"))
	if err != nil {
		t.Fatal(err)
	}
	task, err := cont.Task(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(int(task.Pid()), syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", task.Pid(), err)
	}
	st := syncUntil(t, r, pod, "", "phase Failed", func(st api.PodStatus) bool { return st.Phase == api.PodFailed })
	if term := terminated(st, "main"); term == nil || term.ExitCode != 137 {
		t.Fatalf("main state %+v, want terminated exitCode 137", containerStatusOf(t, st, "main").State)
	}
}

func TestCrashingContainerIsRestartedThenBacksOff(t *testing.T) {
	r := newTestRuntime(t)
	pod := newPod(t, "crasher", api.RestartAlways, shell("main", imageV1, "echo run; exit 1"))
	st := syncUntil(t, r, pod, "", "CrashLoopBackOff after one restart", func(st api.PodStatus) bool {
		cs := st.ContainerStatuses[0]
		return cs.RestartCount == 1 && cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff"
	})
	cs := containerStatusOf(t, st, "main")
	if last := cs.LastTerminationState.Terminated; last == nil || last.ExitCode != 1 || last.Reason != "Error" {
		t.Errorf("lastState %+v, want terminated exitCode 1 reason Error", cs.LastTerminationState)
	}
	if st.Phase != api.PodRunning {
		t.Errorf("phase %s, want Running while the container will restart", st.Phase)
	}
	// Each run has its own log; the first run's is kept as the previous one.
	log := waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "main"), "run\n")
	if n := strings.Count(log, "run"); n != 1 {
		t.Errorf("current log holds %d runs, want 1 (the back-off must hold the third)", n)
	}
	if prev := waitLog(t, previousLogPath(r.LogPath(string(pod.ObjectMeta.UID), "main")), "run\n"); strings.Count(prev, "run") != 1 {
		t.Errorf("previous log %q, want the first run's line once", prev)
	}
}

func TestMissingImageWithPolicyNeverIsReportedNotPulled(t *testing.T) {
	r := newTestRuntime(t)
	c := shell("main", "example.invalid/nothing:1", "true")
	c.ImagePullPolicy = "Never"
	pod := newPod(t, "noimage", api.RestartAlways, c)
	if err := r.SyncPod(context.Background(), pod, ""); err != nil {
		t.Fatalf("SyncPod with a missing image: %v, want no error", err)
	}
	st, err := r.PodStatus(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	w := containerStatusOf(t, st, "main").State.Waiting
	if w == nil || w.Reason != "ErrImageNeverPull" || !strings.Contains(w.Message, "example.invalid/nothing:1") {
		t.Errorf("state %+v, want waiting ErrImageNeverPull naming the image", containerStatusOf(t, st, "main").State)
	}
	if st.Phase != api.PodPending {
		t.Errorf("phase %s, want Pending", st.Phase)
	}
}

func TestShortImageNameFindsNormalisedImage(t *testing.T) {
	r := newTestRuntime(t)
	pod := newPod(t, "short", api.RestartNever, shell("main", "busybox", "true"))
	syncUntil(t, r, pod, "", "Succeeded", func(st api.PodStatus) bool { return st.Phase == api.PodSucceeded })
}

func TestChangingOneImageRestartsOnlyThatContainer(t *testing.T) {
	r := newTestRuntime(t)
	netns := newNetns(t)
	pod := newPod(t, "upgrade", api.RestartAlways,
		shell("app", imageV1, "exec sleep 1000"),
		shell("sidecar", imageV1, "exec sleep 1000"),
	)
	before := syncUntil(t, r, pod, netns, "both running", func(st api.PodStatus) bool { return running(st, "app", "sidecar") })
	pidsBefore := taskPIDs(t, r, pod)

	pod.Spec.Containers[0].Image = imageV2
	after := syncUntil(t, r, pod, netns, "app running the new image", func(st api.PodStatus) bool {
		cs := st.ContainerStatuses[0]
		return cs.Image == imageV2 && cs.State.Running != nil && running(st, "sidecar")
	})
	pidsAfter := taskPIDs(t, r, pod)
	if pidsAfter["sidecar"] != pidsBefore["sidecar"] {
		t.Errorf("sidecar pid changed %d -> %d: it was restarted", pidsBefore["sidecar"], pidsAfter["sidecar"])
	}
	if a, b := containerStatusOf(t, before, "sidecar").State.Running.StartedAt, containerStatusOf(t, after, "sidecar").State.Running.StartedAt; !a.Equal(&b) {
		t.Errorf("sidecar startedAt changed %v -> %v", a, b)
	}
	if containerStatusOf(t, after, "sidecar").RestartCount != 0 {
		t.Errorf("sidecar restartCount %d, want 0", containerStatusOf(t, after, "sidecar").RestartCount)
	}
	if pidsAfter["app"] == pidsBefore["app"] {
		t.Errorf("app pid unchanged (%d): it was not restarted", pidsAfter["app"])
	}
	if got := containerStatusOf(t, after, "app").RestartCount; got != 1 {
		t.Errorf("app restartCount %d, want 1", got)
	}
	ctx := r.withNS(context.Background())
	cont, err := r.client.LoadContainer(ctx, containerID(string(pod.ObjectMeta.UID), "app"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := cont.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Image != imageV2 {
		t.Errorf("app container image %s, want %s", info.Image, imageV2)
	}
}

func taskPIDs(t *testing.T, r *Runtime, pod *api.Pod) map[string]uint32 {
	t.Helper()
	ctx := r.withNS(context.Background())
	out := map[string]uint32{}
	for _, c := range pod.Spec.Containers {
		cont, err := r.client.LoadContainer(ctx, containerID(string(pod.ObjectMeta.UID), c.Name))
		if err != nil {
			t.Fatal(err)
		}
		task, err := cont.Task(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		out[c.Name] = task.Pid()
	}
	return out
}

func TestRemovePodLeavesNothingBehind(t *testing.T) {
	r := newTestRuntime(t)
	netns := newNetns(t)
	pod := newPod(t, "doomed", api.RestartAlways,
		shell("a", imageV1, "exec sleep 1000"),
		shell("b", imageV1, "exit 0"),
	)
	uid := pod.ObjectMeta.UID
	syncUntil(t, r, pod, netns, "a running, b started", func(st api.PodStatus) bool {
		return running(st, "a") && containerStatusOf(t, st, "b").RestartCount > 0
	})
	uids, err := r.ListPods(context.Background())
	if err != nil || !contains(uids, string(uid)) {
		t.Fatalf("ListPods = %v, %v; want it to hold %s", uids, err, uid)
	}
	if err := r.RemovePod(context.Background(), string(uid)); err != nil {
		t.Fatalf("RemovePod: %v", err)
	}
	if err := r.RemovePod(context.Background(), string(uid)); err != nil {
		t.Fatalf("RemovePod again: %v, want idempotent", err)
	}
	ctx := r.withNS(context.Background())
	if cs, err := r.client.Containers(ctx); err != nil || len(cs) != 0 {
		t.Errorf("containers left: %d (%v)", len(cs), err)
	}
	tasks, err := r.client.TaskService().List(ctx, &tasksapi.ListTasksRequest{})
	if err != nil || len(tasks.Tasks) != 0 {
		t.Errorf("tasks left: %v (%v)", tasks, err)
	}
	var snaps []string
	err = r.client.SnapshotService(containerd.DefaultSnapshotter).Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		if strings.HasPrefix(info.Name, containerID(string(uid), "")) {
			snaps = append(snaps, info.Name)
		}
		return nil
	})
	if err != nil || len(snaps) != 0 {
		t.Errorf("snapshots left: %v (%v)", snaps, err)
	}
	if m := mountsUnder(r.sandboxDir(string(uid))); len(m) != 0 {
		t.Errorf("sandbox mounts left: %v", m)
	}
	if _, err := os.Stat(r.sandboxDir(string(uid))); !os.IsNotExist(err) {
		t.Errorf("sandbox dir left (stat: %v)", err)
	}
	if uids, err := r.ListPods(context.Background()); err != nil || contains(uids, string(uid)) {
		t.Errorf("ListPods after removal = %v, %v", uids, err)
	}
	if st, err := r.PodStatus(context.Background(), pod); err != nil || st.ContainerStatuses[0].State.Waiting == nil {
		t.Errorf("status of removed pod: %+v, %v; want waiting", st, err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestMemoryLimitIsEnforcedAndOOMKillReported(t *testing.T) {
	r := newTestRuntime(t)
	c := shell("hog", imageV1, `x=$(head -c 200000000 /dev/zero | tr '\0' a); echo survived`)
	c.Resources.Limits = api.ResourceList{api.ResourceMemory: resource.MustParse("32Mi")}
	pod := newPod(t, "hog", api.RestartNever, c)
	st := syncUntil(t, r, pod, "", "terminated", func(st api.PodStatus) bool { return terminated(st, "hog") != nil })
	term := terminated(st, "hog")
	if term.ExitCode != 137 || term.Reason != "OOMKilled" {
		t.Errorf("hog terminated with %d %q, want 137 OOMKilled", term.ExitCode, term.Reason)
	}
}
