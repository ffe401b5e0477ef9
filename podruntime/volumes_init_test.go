package podruntime

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
)

func initInit(name, script string, mounts ...api.VolumeMount) api.Container {
	c := shell(name, imageV1, script)
	c.VolumeMounts = mounts
	return c
}

func TestEmptyDirIsSharedBetweenContainersAndRemovedWithPod(t *testing.T) {
	r := newTestRuntime(t)
	hostDir := t.TempDir()
	pod := newPod(t, "shared", api.RestartNever,
		initInit("writer", "echo hello from the writer > /pod-data/index.html && echo host > /host/file",
			api.VolumeMount{Name: "shared-data", MountPath: "/pod-data"}, api.VolumeMount{Name: "host", MountPath: "/host"}),
		initInit("reader", "for i in $(seq 1 100); do [ -s /data/index.html ] && break; sleep 0.1; done; cat /data/index.html; echo x > /data/ro",
			api.VolumeMount{Name: "shared-data", MountPath: "/data", ReadOnly: true}),
	)
	pod.Spec.Volumes = []api.Volume{
		{Name: "shared-data", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}},
		{Name: "host", VolumeSource: api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: filepath.Join(hostDir, "made")}}},
	}
	dirOrCreate := api.HostPathDirectoryOrCreate
	pod.Spec.Volumes[1].HostPath.Type = &dirOrCreate
	st := syncUntil(t, r, pod, "", "both done", func(st api.PodStatus) bool {
		return terminated(st, "writer") != nil && terminated(st, "reader") != nil
	})
	if code := terminated(st, "writer").ExitCode; code != 0 {
		t.Errorf("writer exit %d", code)
	}
	if code := terminated(st, "reader").ExitCode; code == 0 {
		t.Errorf("reader could write to a readOnly mount")
	}
	waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "reader"), "hello from the writer")
	if b, err := os.ReadFile(filepath.Join(hostDir, "made", "file")); err != nil || string(b) != "host\n" {
		t.Errorf("hostPath file: %q, %v", b, err)
	}
	emptyDir := r.emptyDirPath(string(pod.ObjectMeta.UID), "shared-data")
	if _, err := os.Stat(filepath.Join(emptyDir, "index.html")); err != nil {
		t.Fatalf("emptyDir on the node: %v", err)
	}
	if err := r.RemovePod(context.Background(), string(pod.ObjectMeta.UID)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(emptyDir); !os.IsNotExist(err) {
		t.Errorf("emptyDir survived its pod: %v", err)
	}
	if _, err := os.Stat(filepath.Join(hostDir, "made", "file")); err != nil {
		t.Errorf("hostPath was removed with the pod: %v", err)
	}
}

func TestHostPathOfWrongTypeIsNotMounted(t *testing.T) {
	r := newTestRuntime(t)
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := api.HostPathDirectory
	pod := newPod(t, "wrongtype", api.RestartNever, initInit("main", "true", api.VolumeMount{Name: "h", MountPath: "/h"}))
	pod.Spec.Volumes = []api.Volume{{Name: "h", VolumeSource: api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: file, Type: &dir}}}}
	err := r.SyncPod(context.Background(), pod, "")
	if err == nil || !strings.Contains(err.Error(), "is not a Directory") {
		t.Fatalf("SyncPod err = %v, want the hostPath type named", err)
	}
}

func TestInitContainersRunInOrderBeforeAppContainers(t *testing.T) {
	r := newTestRuntime(t)
	m := api.VolumeMount{Name: "work", MountPath: "/work"}
	pod := newPod(t, "inits", api.RestartNever,
		initInit("app", `test "$(cat /work/order)" = "$(printf 'first\nsecond')" && echo order ok`, m))
	pod.Spec.Volumes = []api.Volume{{Name: "work", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}}}
	pod.Spec.InitContainers = []api.Container{
		initInit("first", "sleep 1; echo first >> /work/order", m),
		initInit("second", "echo second >> /work/order", m),
	}
	// While the first init container runs, the pod is Pending, Init 0/2.
	st := syncUntil(t, r, pod, "", "first init running", func(st api.PodStatus) bool {
		return len(st.InitContainerStatuses) == 2 && st.InitContainerStatuses[0].State.Running != nil
	})
	if st.Phase != api.PodPending || st.InitContainerStatuses[1].State.Waiting == nil {
		t.Errorf("while init 1 runs: phase %s, init 2 %+v", st.Phase, st.InitContainerStatuses[1].State)
	}
	if w := containerStatusOf(t, st, "app").State.Waiting; w == nil || w.Reason != "PodInitializing" {
		t.Errorf("app state %+v, want waiting PodInitializing", containerStatusOf(t, st, "app").State)
	}
	if c := st.Conditions[0]; c.Type != "Initialized" || c.Status != "False" {
		t.Errorf("condition %+v, want Initialized False", c)
	}
	st = syncUntil(t, r, pod, "", "Succeeded", func(st api.PodStatus) bool { return st.Phase == api.PodSucceeded })
	for _, ic := range st.InitContainerStatuses {
		if ic.State.Terminated == nil || ic.State.Terminated.Reason != "Completed" || !ic.Ready {
			t.Errorf("init %s state %+v ready %v, want Completed and ready", ic.Name, ic.State, ic.Ready)
		}
	}
	if c := st.Conditions[0]; c.Type != "Initialized" || c.Status != "True" {
		t.Errorf("condition %+v, want Initialized True", c)
	}
	waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "app"), "order ok")
}

func TestFailingInitContainerFailsPodWithRestartNever(t *testing.T) {
	r := newTestRuntime(t)
	pod := newPod(t, "badinit", api.RestartNever, shell("app", imageV1, "echo must not run"))
	pod.Spec.InitContainers = []api.Container{shell("setup", imageV1, "exit 7")}
	st := syncUntil(t, r, pod, "", "Failed", func(st api.PodStatus) bool { return st.Phase == api.PodFailed })
	if term := st.InitContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 7 {
		t.Fatalf("init state %+v", st.InitContainerStatuses[0].State)
	}
	if _, err := os.Stat(r.LogPath(string(pod.ObjectMeta.UID), "app")); !os.IsNotExist(err) {
		t.Errorf("app container ran although its init container failed (%v)", err)
	}
}

func TestFailingInitContainerIsRetriedWithBackOff(t *testing.T) {
	r := newTestRuntime(t)
	pod := newPod(t, "retryinit", api.RestartAlways, shell("app", imageV1, "exec sleep 1000"))
	pod.Spec.InitContainers = []api.Container{shell("setup", imageV1, "exit 1")}
	st := syncUntil(t, r, pod, "", "init in back-off", func(st api.PodStatus) bool {
		w := st.InitContainerStatuses[0].State.Waiting
		return w != nil && w.Reason == "CrashLoopBackOff"
	})
	if st.Phase != api.PodPending || st.InitContainerStatuses[0].RestartCount < 1 {
		t.Errorf("phase %s restarts %d, want Pending and at least one retry", st.Phase, st.InitContainerStatuses[0].RestartCount)
	}
}

func TestMemoryEmptyDirIsASizedTmpfsUnmountedWithPod(t *testing.T) {
	r := newTestRuntime(t)
	limit := resource.MustParse("1Mi")
	pod := newPod(t, "memvol", api.RestartNever,
		initInit("main", `grep -q " /mem tmpfs " /proc/mounts || exit 2; dd if=/dev/zero of=/mem/big bs=1024 count=2048 2>/dev/null && exit 3; echo limited`,
			api.VolumeMount{Name: "mem", MountPath: "/mem"}))
	pod.Spec.Volumes = []api.Volume{{Name: "mem", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{Medium: api.EmptyDirMediumMemory, SizeLimit: &limit}}}}
	st := syncUntil(t, r, pod, "", "done", func(st api.PodStatus) bool { return terminated(st, "main") != nil })
	if code := terminated(st, "main").ExitCode; code != 0 {
		t.Fatalf("exit %d: 2 = not a tmpfs, 3 = the size limit did not hold", code)
	}
	dir := r.emptyDirPath(string(pod.ObjectMeta.UID), "mem")
	if err := r.RemovePod(context.Background(), string(pod.ObjectMeta.UID)); err != nil {
		t.Fatal(err)
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mounts), dir) {
		t.Errorf("tmpfs %s still mounted after RemovePod", dir)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("volume dir survived: %v", err)
	}
}
