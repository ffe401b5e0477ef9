package podruntime

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/podruntime/ociarchive"
)

const (
	imageV1 = "docker.io/library/busybox:latest"
	imageV2 = "shoal.test/busybox:v2"
)

// newTestRuntime connects to the test containerd with a fresh state dir,
// imports the busybox images, and removes every pod it made at the end;
// opts adjust the Config (registries, credentials, events).
func newTestRuntime(t *testing.T, opts ...func(*Config)) *Runtime {
	t.Helper()
	if testContainerd == nil {
		t.Skip(skipReason)
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("busybox-static not installed")
	}
	stateDir := t.TempDir()
	ctx := context.Background()
	cfg := Config{
		Address:   testContainerd.address,
		Namespace: testNamespace,
		StateDir:  stateDir,
		StopGrace: time.Second,
		Log:       slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, o := range opts {
		o(&cfg)
	}
	r, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		uids, err := r.ListPods(ctx)
		if err != nil {
			t.Errorf("cleanup: list pods: %v", err)
		}
		for _, uid := range uids {
			if err := r.RemovePod(ctx, uid); err != nil {
				t.Errorf("cleanup: remove pod %s: %v", uid, err)
			}
		}
		unmountUnder(stateDir)
		r.Close()
	})
	for _, ref := range []string{imageV1, imageV2} {
		var buf bytes.Buffer
		if err := ociarchive.BuildBusybox(&buf, ref, "/bin/busybox"); err != nil {
			t.Fatalf("build busybox archive: %v", err)
		}
		names, err := r.ImportImage(ctx, &buf)
		if err != nil {
			t.Fatalf("ImportImage %s: %v", ref, err)
		}
		if len(names) != 1 || names[0] != ref {
			t.Fatalf("ImportImage %s returned %v", ref, names)
		}
	}
	return r
}

func newUID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func newPod(t *testing.T, name string, policy api.RestartPolicy, containers ...api.Container) *api.Pod {
	return &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", UID: api.UID(newUID(t))},
		Spec:       api.PodSpec{Containers: containers, RestartPolicy: api.RestartPolicy(policy)},
	}
}

func shell(name, image, script string) api.Container {
	return api.Container{Name: name, Image: image, Command: []string{"sh", "-c", script}}
}

// newNetns makes a network namespace with loopback up, as the network plane
// would, and deletes it at the end of the test.
func newNetns(t *testing.T) string {
	t.Helper()
	name := "shoal-prt-" + newUID(t)[:8]
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("bring lo up in %s: %v: %s", name, err, out)
	}
	return "/run/netns/" + name
}

// syncUntil reconciles the pod the way the agent does, again and again,
// until its status satisfies ok or the deadline passes.
func syncUntil(t *testing.T, r *Runtime, pod *api.Pod, netns string, what string, ok func(api.PodStatus) bool) api.PodStatus {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	var st api.PodStatus
	for {
		if err := r.SyncPod(ctx, pod, netns); err != nil {
			t.Fatalf("SyncPod: %v", err)
		}
		var err error
		st, err = r.PodStatus(ctx, pod)
		if err != nil {
			t.Fatalf("PodStatus: %v", err)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(st, "", "  ")
			t.Fatalf("pod %s never reached %s; last status:\n%s", pod.ObjectMeta.Name, what, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func containerStatusOf(t *testing.T, st api.PodStatus, name string) api.ContainerStatus {
	t.Helper()
	for _, cs := range st.ContainerStatuses {
		if cs.Name == name {
			return cs
		}
	}
	t.Fatalf("no status for container %s", name)
	return api.ContainerStatus{}
}

func terminated(st api.PodStatus, name string) *api.ContainerStateTerminated {
	for _, cs := range st.ContainerStatuses {
		if cs.Name == name {
			return cs.State.Terminated
		}
	}
	return nil
}

func running(st api.PodStatus, names ...string) bool {
	n := 0
	for _, cs := range st.ContainerStatuses {
		for _, want := range names {
			if cs.Name == want && cs.State.Running != nil {
				n++
			}
		}
	}
	return n == len(names)
}

// waitLog polls a container's log file until what it says (the content
// of its CRI records) holds want, and returns that.
func waitLog(t *testing.T, path, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		recs, rest := parseCRILog(b)
		var content bytes.Buffer
		if err := (&recordWriter{}).write(&content, recs); err != nil {
			t.Fatal(err)
		}
		content.Write(rest)
		if strings.Contains(content.String(), want) {
			return content.String()
		}
		if time.Now().After(deadline) {
			t.Fatalf("log %s never contained %q; it holds:\n%s", path, want, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
