package podruntime

import (
	"context"
	"log/slog"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func TestNewRuntimeAdoptsRunningPodWithoutRestartingIt(t *testing.T) {
	r := newTestRuntime(t)
	netns := newNetns(t)
	pod := newPod(t, "survivor", api.RestartAlways, shell("main", imageV1, "exec sleep 1000"))
	syncUntil(t, r, pod, netns, "running", func(st api.PodStatus) bool { return running(st, "main") })
	before := taskPIDs(t, r, pod)

	// A second runtime over the same state stands for the agent after a restart.
	again, err := New(context.Background(), Config{
		Address: testContainerd.address, Namespace: testNamespace, StateDir: r.stateDir,
		Log: slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	uids, err := again.ListPods(context.Background())
	if err != nil || !contains(uids, string(pod.ObjectMeta.UID)) {
		t.Fatalf("ListPods after restart = %v, %v; want the running pod", uids, err)
	}
	st := syncUntil(t, again, pod, netns, "running", func(st api.PodStatus) bool { return running(st, "main") })
	if after := taskPIDs(t, again, pod); after["main"] != before["main"] {
		t.Errorf("adopting restarted the container: pid %d -> %d", before["main"], after["main"])
	}
	if cs := containerStatusOf(t, st, "main"); cs.RestartCount != 0 || st.Phase != api.PodRunning {
		t.Errorf("after adoption restartCount %d phase %s, want 0 Running", cs.RestartCount, st.Phase)
	}
}

func TestCommandArgsEnvAndWorkingDirFollowKubernetesRules(t *testing.T) {
	r := newTestRuntime(t)
	pod := newPod(t, "argv", api.RestartNever,
		api.Container{
			Name: "cmd", Image: imageV1,
			Command:    []string{"sh", "-c"},
			Args:       []string{`echo "out $FOO $(pwd) $PATH"`},
			Env:        []api.EnvVar{{Name: "FOO", Value: "bar"}},
			WorkingDir: "/tmp",
		},
		// No command: the image has no ENTRYPOINT, so args replace its CMD.
		api.Container{Name: "args", Image: imageV1, Args: []string{"echo", "args-only"}},
	)
	syncUntil(t, r, pod, "", "Succeeded", func(st api.PodStatus) bool { return st.Phase == api.PodSucceeded })
	waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "cmd"), "out bar /tmp /usr/local/sbin:")
	waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "args"), "args-only")
}
