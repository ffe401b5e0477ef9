package podruntime

import (
	"context"
	"os"
	"strings"
	"testing"

	containerd "github.com/containerd/containerd"

	"github.com/shoal-dev/shoal/api"
)

// loseTask deletes a container's task behind the runtime's back, as
// containerd does once a power cut killed the task's shim: the container
// stays, its process and exit status are gone.
func loseTask(t *testing.T, r *Runtime, pod *api.Pod, name string) {
	t.Helper()
	ctx := r.withNS(context.Background())
	cont, err := r.client.LoadContainer(ctx, containerID(string(pod.ObjectMeta.UID), name))
	if err != nil {
		t.Fatal(err)
	}
	task, err := cont.Task(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil {
		t.Fatalf("delete task of %s: %v", name, err)
	}
}

// The seeds' two-containers pod after a power cut of its node: with
// restartPolicy Never neither the finished writer nor the killed server
// runs again (the writer's file is written once), and the pod ends Failed
// with the server's end unknown.
func TestLostTasksFollowTheRestartPolicy(t *testing.T) {
	r := newTestRuntime(t)
	dir := t.TempDir()
	writer := shell("writer", imageV1, "echo run >> /data/runs")
	writer.VolumeMounts = []api.VolumeMount{{Name: "data", MountPath: "/data"}}
	pod := newPod(t, "never", api.RestartNever, shell("server", imageV1, "exec sleep 1000"), writer)
	pod.Spec.Volumes = []api.Volume{{Name: "data", VolumeSource: api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: dir}}}}
	syncUntil(t, r, pod, "", "server running, writer done", func(st api.PodStatus) bool {
		return running(st, "server") && terminated(st, "writer") != nil
	})
	// One more pass, as the agent makes every few seconds: it sees the
	// writer's end (an end no pass saw is unknown after a power cut).
	if err := r.SyncPod(context.Background(), pod, ""); err != nil {
		t.Fatal(err)
	}
	loseTask(t, r, pod, "writer")
	loseTask(t, r, pod, "server")
	st := syncUntil(t, r, pod, "", "phase Failed", func(st api.PodStatus) bool { return st.Phase == api.PodFailed })
	if term := terminated(st, "server"); term == nil || term.ExitCode != 137 || term.Reason != "ContainerStatusUnknown" {
		t.Errorf("server state %+v, want terminated 137 ContainerStatusUnknown", containerStatusOf(t, st, "server").State)
	}
	if term := terminated(st, "writer"); term == nil || term.ExitCode != 0 || term.Reason != "Completed" {
		t.Errorf("writer state %+v, want its recorded end: 0 Completed", containerStatusOf(t, st, "writer").State)
	}
	for _, name := range []string{"server", "writer"} {
		if cs := containerStatusOf(t, st, name); cs.RestartCount != 0 {
			t.Errorf("%s restartCount %d, want 0", name, cs.RestartCount)
		}
	}
	// Sync again: nothing starts.
	syncUntil(t, r, pod, "", "still Failed", func(st api.PodStatus) bool { return st.Phase == api.PodFailed })
	if b, err := os.ReadFile(dir + "/runs"); err != nil || strings.Count(string(b), "run") != 1 {
		t.Errorf("the writer ran %d times (%v), want once", strings.Count(string(b), "run"), err)
	}

	// Under Always the lost container restarts, counted, with its unknown
	// end as its last state.
	always := newPod(t, "always", api.RestartAlways, shell("main", imageV1, "exec sleep 1000"))
	syncUntil(t, r, always, "", "running", func(st api.PodStatus) bool { return running(st, "main") })
	loseTask(t, r, always, "main")
	st = syncUntil(t, r, always, "", "running again after one restart", func(st api.PodStatus) bool {
		return running(st, "main") && containerStatusOf(t, st, "main").RestartCount == 1
	})
	if last := containerStatusOf(t, st, "main").LastTerminationState.Terminated; last == nil || last.ExitCode != 137 || last.Reason != "ContainerStatusUnknown" {
		t.Errorf("last state %+v, want terminated 137 ContainerStatusUnknown", containerStatusOf(t, st, "main").LastTerminationState)
	}
}
