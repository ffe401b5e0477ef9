package podruntime

import (
	"os"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

// configMap, secret and downwardAPI volumes in a real container: the
// files are there read-only, a ConfigMap update reaches them without a
// restart, and a missing ConfigMap holds the container back.
func TestDataVolumesAreMountedReadOnlyAndFollowTheirConfigMap(t *testing.T) {
	objs := newFakeObjects()
	r := newTestRuntime(t, func(c *Config) { c.Objects = objs })
	objs.putConfigMap("cfg", map[string]string{"greeting": "hello"})
	objs.putSecret("s", map[string][]byte{"pass": []byte("hunter2")})
	// One line of stdout each: stdout and stderr reach the log through
	// two pipes, in no fixed order.
	c := shell("app", imageV1, `echo "secret=$(cat /etc/s/pass) name=$(cat /etc/pod/name)"; if (echo x > /etc/cfg/new) 2>/dev/null; then echo WRITABLE; fi
		while true; do echo "greeting=$(cat /etc/cfg/greeting)"; sleep 0.2; done`)
	c.VolumeMounts = []api.VolumeMount{{Name: "cfg", MountPath: "/etc/cfg"}, {Name: "s", MountPath: "/etc/s"}, {Name: "pod", MountPath: "/etc/pod"}}
	pod := newPod(t, "volpod", api.RestartAlways, c)
	pod.Spec.Volumes = []api.Volume{
		{Name: "cfg", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: api.LocalObjectReference{Name: "cfg"}}}},
		{Name: "s", VolumeSource: api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "s"}}},
		{Name: "pod", VolumeSource: api.VolumeSource{DownwardAPI: &api.DownwardAPIVolumeSource{Items: []api.DownwardAPIVolumeFile{
			{Path: "name", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}}}}},
	}
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "app") })
	logPath := r.LogPath(string(pod.ObjectMeta.UID), "app")
	log := waitLog(t, logPath, "greeting=hello")
	if !strings.Contains(log, "secret=hunter2 name=volpod\n") || strings.Contains(log, "WRITABLE") {
		t.Fatalf("log %q: want the secret, the pod name and no write to the configMap volume", log)
	}

	objs.putConfigMap("cfg", map[string]string{"greeting": "bonjour"})
	st := syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "app") })
	waitLog(t, logPath, "greeting=bonjour")
	if n := containerStatusOf(t, st, "app").RestartCount; n != 0 {
		t.Errorf("the update restarted the container (%d restarts)", n)
	}

	// A pod whose ConfigMap does not exist waits, and the reason is an event.
	other := newPod(t, "waits", api.RestartAlways, shell("app", imageV1, "sleep 600"))
	other.Spec.Containers[0].VolumeMounts = []api.VolumeMount{{Name: "cfg", MountPath: "/etc/cfg"}}
	other.Spec.Volumes = []api.Volume{{Name: "cfg", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: api.LocalObjectReference{Name: "absent"}}}}}
	err := r.SyncPod(t.Context(), other, "")
	if err == nil || !strings.Contains(err.Error(), `volume cfg: configmap "absent" not found`) {
		t.Fatalf("sync of a pod whose ConfigMap is missing: %v", err)
	}
	objs.putConfigMap("absent", map[string]string{"k": "v"})
	syncUntil(t, r, other, "", "running once the ConfigMap exists", func(st api.PodStatus) bool { return running(st, "app") })
	if err := r.RemovePod(t.Context(), string(other.ObjectMeta.UID)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.emptyDirPath(string(other.ObjectMeta.UID), "cfg")); !os.IsNotExist(err) {
		t.Errorf("volume files survived their pod: %v", err)
	}
}
