package podruntime

import (
	"os"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func ptr[T any](v T) *T { return &v }

// A container's security context reaches the process through containerd
// and runc: its user and groups, a read-only root, no new privileges,
// only the capabilities it keeps, and the runtime's seccomp profile.
func TestSecurityContextReachesTheProcess(t *testing.T) {
	r := newTestRuntime(t)
	c := shell("app", imageV1, `echo "id: $(id -u) $(id -g) $(id -G)"; grep -E '^(CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; `+
		`touch /x 2>/dev/null && echo root-writable || echo root-readonly; sleep 600`)
	c.SecurityContext = &api.SecurityContext{
		RunAsUser: ptr(int64(1000)), ReadOnlyRootFilesystem: ptr(true), AllowPrivilegeEscalation: ptr(false),
		Capabilities: &api.Capabilities{Drop: []api.Capability{"ALL"}, Add: []api.Capability{"NET_BIND_SERVICE"}},
	}
	pod := newPod(t, "secure", api.RestartAlways, c)
	pod.Spec.SecurityContext = &api.PodSecurityContext{RunAsUser: ptr(int64(7)), RunAsGroup: ptr(int64(3000)),
		SupplementalGroups: []int64{4000}, FSGroup: ptr(int64(5000)), SeccompProfile: &api.SeccompProfile{Type: api.SeccompRuntimeDefault}}
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "app") })
	log := waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "app"), "root-")
	for _, want := range []string{
		"id: 1000 3000 3000 4000 5000", // the container's user wins, the pod's group and groups apply
		"CapBnd:\t0000000000000400",    // only CAP_NET_BIND_SERVICE (bit 10) is left to gain; a non-root user's effective set is empty, as in Kubernetes
		"NoNewPrivs:\t1",
		"Seccomp:\t2", // filter mode: the runtime's default profile
		"root-readonly",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// runAsNonRoot keeps a container whose user would be root from starting,
// saying why, as the kubelet does; a non-root user starts.
func TestRunAsNonRootRefusesRoot(t *testing.T) {
	r := newTestRuntime(t)
	c := shell("app", imageV1, `id -u; sleep 600`)
	pod := newPod(t, "nonroot", api.RestartAlways, c)
	pod.Spec.SecurityContext = &api.PodSecurityContext{RunAsNonRoot: ptr(true)}
	syncUntil(t, r, pod, "", "CreateContainerConfigError", func(st api.PodStatus) bool {
		w := containerStatusOf(t, st, "app").State.Waiting
		return w != nil && w.Reason == ReasonCreateContainerConfigError && strings.Contains(w.Message, "image will run as root")
	})
	pod2 := newPod(t, "nonroot2", api.RestartAlways, c)
	pod2.Spec.SecurityContext = &api.PodSecurityContext{RunAsNonRoot: ptr(true), RunAsUser: ptr(int64(65534))}
	syncUntil(t, r, pod2, "", "running", func(st api.PodStatus) bool { return running(st, "app") })
	waitLog(t, r.LogPath(string(pod2.ObjectMeta.UID), "app"), "65534")
}

// A privileged container gets every capability and the host's devices,
// as containerd's CRI plugin makes one.
func TestPrivilegedContainerGetsEveryCapability(t *testing.T) {
	r := newTestRuntime(t)
	c := shell("app", imageV1, `grep -E '^CapEff:' /proc/self/status; ls /dev/loop-control >/dev/null 2>&1 && echo host-devices; echo done; sleep 600`)
	c.SecurityContext = &api.SecurityContext{Privileged: ptr(true)}
	pod := newPod(t, "priv", api.RestartAlways, c)
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "app") })
	log := waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "app"), "done")
	self, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var mine string // the runtime's own capabilities: all a privileged container gets
	for _, line := range strings.Split(string(self), "\n") {
		if strings.HasPrefix(line, "CapEff:") {
			mine = line
		}
	}
	if mine == "" || !strings.Contains(log, mine) {
		t.Errorf("privileged container's capabilities, want %q:\n%s", mine, log)
	}
	if !strings.Contains(log, "host-devices") {
		t.Errorf("privileged container lacks the host's devices:\n%s", log)
	}
}
