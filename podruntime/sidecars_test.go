package podruntime

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoal-dev/shoal/api"
)

// sidecarPod is a pod whose containers all append a line to one file of a
// shared hostPath directory, so the test reads the order they ran in.
func sidecarPod(t *testing.T, policy api.RestartPolicy, sidecar, init, app api.Container) (*api.Pod, string) {
	t.Helper()
	dir := t.TempDir()
	always := corev1.ContainerRestartPolicyAlways
	sidecar.RestartPolicy = &always
	pod := newPod(t, "sidecar", policy, app)
	pod.Spec.InitContainers = []api.Container{sidecar, init}
	pod.Spec.Volumes = []api.Volume{{Name: "shared", VolumeSource: api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: dir}}}}
	for _, list := range [][]api.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			list[i].VolumeMounts = []api.VolumeMount{{Name: "shared", MountPath: "/shared"}}
		}
	}
	return pod, filepath.Join(dir, "order")
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func initStatusOf(t *testing.T, st api.PodStatus, name string) api.ContainerStatus {
	t.Helper()
	for _, cs := range st.InitContainerStatuses {
		if cs.Name == name {
			return cs
		}
	}
	t.Fatalf("no init status for container %s", name)
	return api.ContainerStatus{}
}

// The sidecar starts first and counts as started only once its startup
// probe passes; the init container after it runs while it runs; the app
// container comes last. A sidecar that exits is restarted while the app
// runs, and the pod stays initialized and Running meanwhile. At deletion
// the app container stops before the sidecar.
func TestSidecarStartsFirstKeepsRunningAndStopsLast(t *testing.T) {
	r := newTestRuntime(t)
	sidecar := shell("proxy", imageV1, `echo sidecar >> /shared/order
trap 'echo sidecar-stopped >> /shared/order; exit 0' TERM
sleep 1; touch /shared/up
while true; do if [ -f /shared/crash ] && [ ! -f /shared/crashed ]; then touch /shared/crashed; exit 3; fi; sleep 0.2; done`)
	sidecar.StartupProbe = &api.Probe{ProbeHandler: api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"test", "-f", "/shared/up"}}}, PeriodSeconds: 1, FailureThreshold: 30, TimeoutSeconds: 1, SuccessThreshold: 1}
	init := shell("setup", imageV1, `test -f /shared/up || exit 1; echo init >> /shared/order`)
	app := shell("app", imageV1, `echo app >> /shared/order; trap 'echo app-stopped >> /shared/order; exit 0' TERM; while true; do sleep 0.2; done`)
	pod, order := sidecarPod(t, api.RestartAlways, sidecar, init, app)

	st := syncUntil(t, r, pod, "", "app running", func(st api.PodStatus) bool { return running(st, "app") })
	if got := strings.Join(readLines(t, order), " "); !strings.HasPrefix(got, "sidecar init app") {
		t.Fatalf("order = %q, want sidecar init app first", got)
	}
	if cs := initStatusOf(t, st, "proxy"); cs.State.Running == nil || cs.Started == nil || !*cs.Started {
		t.Fatalf("sidecar status = %+v, want running and started", cs)
	}
	// Now the sidecar exits once (the test says when, so the checks above
	// see it running).
	if err := os.WriteFile(filepath.Join(filepath.Dir(order), "crash"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st = syncUntil(t, r, pod, "", "sidecar restarted", func(st api.PodStatus) bool {
		cs := initStatusOf(t, st, "proxy")
		return cs.RestartCount >= 1 && cs.State.Running != nil
	})
	if st.Phase != api.PodRunning || st.Conditions[0].Status != "True" {
		t.Fatalf("while the sidecar restarted: phase %s, Initialized %s", st.Phase, st.Conditions[0].Status)
	}
	if cs := containerStatusOf(t, st, "app"); cs.RestartCount != 0 || cs.State.Running == nil {
		t.Fatalf("app container was disturbed by the sidecar's restart: %+v", cs)
	}
	if err := r.stopForDeletion(context.Background(), pod, time.Now().Add(20*time.Second), true); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(readLines(t, order), " ")
	if !strings.HasSuffix(got, "app-stopped sidecar-stopped") {
		t.Fatalf("order = %q, want the app stopped before the sidecar", got)
	}
}

// A Job's pod (restartPolicy Never) succeeds when its app container does;
// the sidecar, which would run forever, is then stopped.
func TestSidecarIsStoppedWhenTheAppContainersFinish(t *testing.T) {
	r := newTestRuntime(t)
	sidecar := shell("logger", imageV1, `echo sidecar >> /shared/order; trap 'echo sidecar-stopped >> /shared/order; exit 0' TERM; while true; do sleep 0.2; done`)
	init := shell("setup", imageV1, `echo init >> /shared/order`)
	app := shell("work", imageV1, `echo app >> /shared/order; sleep 1`)
	pod, order := sidecarPod(t, api.RestartNever, sidecar, init, app)

	st := syncUntil(t, r, pod, "", "sidecar stopped", func(st api.PodStatus) bool {
		return initStatusOf(t, st, "logger").State.Terminated != nil
	})
	if st.Phase != api.PodSucceeded {
		t.Fatalf("phase = %s, want Succeeded", st.Phase)
	}
	if got := strings.Join(readLines(t, order), " "); got != "sidecar init app sidecar-stopped" {
		t.Fatalf("order = %q", got)
	}
	// Stopped for good: later syncs do not start it again.
	for range 5 {
		if err := r.SyncPod(context.Background(), pod, ""); err != nil {
			t.Fatal(err)
		}
	}
	st, err := r.PodStatus(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	if cs := initStatusOf(t, st, "logger"); cs.State.Terminated == nil || cs.RestartCount != 0 {
		t.Fatalf("sidecar after the pod finished: %+v", cs)
	}
}

// An init container after the sidecar fails a Never pod: the pod fails
// and the sidecar is stopped, the app container never made.
func TestSidecarIsStoppedWhenThePodFailsInInit(t *testing.T) {
	r := newTestRuntime(t)
	sidecar := shell("logger", imageV1, `trap 'echo sidecar-stopped >> /shared/order; exit 0' TERM; while true; do sleep 0.2; done`)
	init := shell("setup", imageV1, `exit 3`)
	app := shell("work", imageV1, `echo app >> /shared/order`)
	pod, order := sidecarPod(t, api.RestartNever, sidecar, init, app)
	st := syncUntil(t, r, pod, "", "sidecar stopped", func(st api.PodStatus) bool {
		return initStatusOf(t, st, "logger").State.Terminated != nil
	})
	if st.Phase != api.PodFailed {
		t.Fatalf("phase = %s, want Failed", st.Phase)
	}
	if got := strings.Join(readLines(t, order), " "); got != "sidecar-stopped" {
		t.Fatalf("order = %q, want only the sidecar's stop", got)
	}
}

// A sidecar's readiness is part of the pod's: ContainersReady waits for it.
func TestSidecarReadinessCountsInThePods(t *testing.T) {
	r := newTestRuntime(t)
	sidecar := shell("proxy", imageV1, `while true; do sleep 0.2; done`)
	sidecar.ReadinessProbe = &api.Probe{ProbeHandler: api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"test", "-f", "/shared/ready"}}}, PeriodSeconds: 1, FailureThreshold: 1, TimeoutSeconds: 1, SuccessThreshold: 1}
	init := shell("setup", imageV1, `true`)
	app := shell("app", imageV1, `while true; do sleep 0.2; done`)
	pod, order := sidecarPod(t, api.RestartAlways, sidecar, init, app)
	st := syncUntil(t, r, pod, "", "app running", func(st api.PodStatus) bool { return running(st, "app") && containerStatusOf(t, st, "app").Ready })
	if cond(st, "ContainersReady") != "False" {
		t.Fatalf("ContainersReady = %s with the sidecar not ready", cond(st, "ContainersReady"))
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(order), "ready"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	syncUntil(t, r, pod, "", "pod ready", func(st api.PodStatus) bool { return cond(st, "ContainersReady") == "True" })
}

func cond(st api.PodStatus, typ api.PodConditionType) api.ConditionStatus {
	for _, c := range st.Conditions {
		if c.Type == typ {
			return c.Status
		}
	}
	return ""
}
