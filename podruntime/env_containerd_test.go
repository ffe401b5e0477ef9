package podruntime

import (
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

// A container whose ConfigMap key is missing waits with
// CreateContainerConfigError naming it, starts once the key exists with
// the value of that moment, and keeps it when the ConfigMap changes (env
// is set when the container is created, as in Kubernetes).
func TestEnvFromAMissingConfigMapWaitsThenStartsWithTheValueOfItsCreation(t *testing.T) {
	objs := newFakeObjects()
	r := newTestRuntime(t, func(c *Config) { c.Objects = objs })
	c := shell("app", imageV1, `echo "mode=$MODE pod=$POD"; sleep 600`)
	c.Env = []api.EnvVar{
		{Name: "MODE", ValueFrom: &api.EnvVarSource{ConfigMapKeyRef: &api.ConfigMapKeySelector{LocalObjectReference: api.LocalObjectReference{Name: "cfg"}, Key: "MODE"}}},
		{Name: "POD", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}},
	}
	pod := newPod(t, "envpod", api.RestartAlways, c)
	syncUntil(t, r, pod, "", "CreateContainerConfigError", func(st api.PodStatus) bool {
		w := containerStatusOf(t, st, "app").State.Waiting
		return w != nil && w.Reason == ReasonCreateContainerConfigError && w.Message == `env MODE: configmap "cfg" not found`
	})
	objs.putConfigMap("cfg", map[string]string{"OTHER": "x"})
	syncUntil(t, r, pod, "", "the missing key named", func(st api.PodStatus) bool {
		w := containerStatusOf(t, st, "app").State.Waiting
		return w != nil && w.Message == "env MODE: couldn't find key MODE in ConfigMap default/cfg"
	})
	objs.putConfigMap("cfg", map[string]string{"MODE": "fast"})
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "app") })
	waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "app"), "mode=fast pod=envpod")

	objs.putConfigMap("cfg", map[string]string{"MODE": "slow"})
	st := syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "app") })
	if n := containerStatusOf(t, st, "app").RestartCount; n != 0 {
		t.Errorf("a ConfigMap change restarted the container (%d restarts)", n)
	}
	if log := waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "app"), "mode="); strings.Contains(log, "slow") {
		t.Errorf("env changed with the ConfigMap: %s", log)
	}
}
