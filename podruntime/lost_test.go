package podruntime

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	containerd "github.com/containerd/containerd"
	"golang.org/x/sys/unix"

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

// cutPower does to a pod what a node's power cut does: its tasks are gone
// and so are the mounts that pinned its sandbox's namespaces; the files of
// its state directory stay, as they are on disk.
func cutPower(t *testing.T, r *Runtime, pod *api.Pod, names ...string) {
	t.Helper()
	for _, name := range names {
		loseTask(t, r, pod, name)
	}
	dir := r.sandboxDir(string(pod.ObjectMeta.UID))
	for _, ns := range sandboxNamespaces {
		if err := unix.Unmount(filepath.Join(dir, ns), unix.MNT_DETACH); err != nil {
			t.Fatalf("unpin %s: %v", ns, err)
		}
	}
}

// After a power cut the sandbox is made again from scratch, and the kept
// container, whose spec mounts the sandbox's resolv.conf, starts again:
// the resolv.conf is written with the new sandbox, not only when a
// container is created (the machines lab's power cycle found a node that
// retried "stat .../resolv.conf: no such file or directory" forever).
func TestPowerCutRemakesTheSandboxWithItsResolvConf(t *testing.T) {
	r := newTestRuntime(t, func(c *Config) {
		c.ClusterDNS = &ClusterDNS{Nameserver: "10.250.0.11", Domain: "cluster.local"}
	})
	pod := newPod(t, "cut", api.RestartAlways, shell("main", imageV1, "cat /etc/resolv.conf; exec sleep 1000"))
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "main") })
	cutPower(t, r, pod, "main")
	syncUntil(t, r, pod, "", "running again after one restart", func(st api.PodStatus) bool {
		return running(st, "main") && containerStatusOf(t, st, "main").RestartCount == 1
	})
	// The container writes its resolv.conf to its log after it starts:
	// the agent's copy may not have it yet when the status says running.
	waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "main"), "nameserver 10.250.0.11")
}

// A lost run whose restart fails is counted once and then backs off, as a
// crashing container does: before, every pass (each 2 s) counted one more
// lost run and tried again at once (the machines lab's power cycle showed
// restartCount 59 after two minutes of failed starts).
func TestALostRunThatCannotRestartBacksOff(t *testing.T) {
	r := newTestRuntime(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "run")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec sleep 1000\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := api.Container{Name: "main", Image: imageV1, Command: []string{"/x/run"}, VolumeMounts: []api.VolumeMount{{Name: "x", MountPath: "/x"}}}
	pod := newPod(t, "nostart", api.RestartAlways, c)
	pod.Spec.Volumes = []api.Volume{{Name: "x", VolumeSource: api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: dir}}}}
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "main") })
	if err := os.Remove(script); err != nil {
		t.Fatal(err)
	}
	loseTask(t, r, pod, "main")
	ctx := context.Background()
	if err := r.SyncPod(ctx, pod, ""); err == nil {
		t.Fatal("a container whose command is gone started")
	}
	for i := 0; i < 3; i++ {
		if err := r.SyncPod(ctx, pod, ""); err != nil {
			t.Fatalf("pass %d within the back-off tried again: %v", i, err)
		}
	}
	st, err := r.PodStatus(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	cs := containerStatusOf(t, st, "main")
	if cs.RestartCount != 1 {
		t.Errorf("restartCount %d after one lost run and one failed start, want 1", cs.RestartCount)
	}
	if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" {
		t.Errorf("state %+v, want waiting in CrashLoopBackOff", cs.State)
	}
}
