package podruntime

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
)

func envPod(c api.Container) *api.Pod {
	return &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default", UID: "u-1", Labels: map[string]string{"team": "blue"}},
		Spec:       api.PodSpec{NodeName: "n1", Containers: []api.Container{c}},
		Status:     api.PodStatus{PodIP: "10.244.1.5", HostIP: "10.0.0.1", PodIPs: []api.PodIP{{IP: "10.244.1.5"}}},
	}
}

func yes() *bool { b := true; return &b }

func TestContainerEnvResolvesEveryKindOfSourceInKubeletOrder(t *testing.T) {
	objs := newFakeObjects()
	objs.putConfigMap("cfg", map[string]string{"MODE": "fast", "LEVEL": "3", "1bad": "x"})
	objs.putSecret("s", map[string][]byte{"pass": []byte("hunter2")})
	c := api.Container{Name: "app",
		Resources: api.ResourceRequirements{Limits: api.ResourceList{api.ResourceMemory: resource.MustParse("64Mi")},
			Requests: api.ResourceList{api.ResourceCPU: resource.MustParse("250m")}},
		EnvFrom: []api.EnvFromSource{
			{ConfigMapRef: &api.ConfigMapEnvSource{LocalObjectReference: api.LocalObjectReference{Name: "cfg"}}},
			{Prefix: "S_", SecretRef: &api.SecretEnvSource{LocalObjectReference: api.LocalObjectReference{Name: "s"}}},
			{ConfigMapRef: &api.ConfigMapEnvSource{LocalObjectReference: api.LocalObjectReference{Name: "absent"}, Optional: yes()}},
		},
		Env: []api.EnvVar{
			{Name: "MODE", Value: "slow"}, // env wins over envFrom
			{Name: "FROM_CM", ValueFrom: &api.EnvVarSource{ConfigMapKeyRef: &api.ConfigMapKeySelector{LocalObjectReference: api.LocalObjectReference{Name: "cfg"}, Key: "LEVEL"}}},
			{Name: "PASS", ValueFrom: &api.EnvVarSource{SecretKeyRef: &api.SecretKeySelector{LocalObjectReference: api.LocalObjectReference{Name: "s"}, Key: "pass"}}},
			{Name: "GONE", ValueFrom: &api.EnvVarSource{SecretKeyRef: &api.SecretKeySelector{LocalObjectReference: api.LocalObjectReference{Name: "s"}, Key: "nope", Optional: yes()}}},
			{Name: "POD", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "NS", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
			{Name: "UID", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.uid"}}},
			{Name: "TEAM", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.labels['team']"}}},
			{Name: "IP", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "HOST", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "status.hostIP"}}},
			{Name: "NODE", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
			{Name: "MEM_MI", ValueFrom: &api.EnvVarSource{ResourceFieldRef: &api.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
			{Name: "CPU_M", ValueFrom: &api.EnvVarSource{ResourceFieldRef: &api.ResourceFieldSelector{Resource: "requests.cpu", Divisor: resource.MustParse("1m")}}},
			{Name: "CPU", ValueFrom: &api.EnvVarSource{ResourceFieldRef: &api.ResourceFieldSelector{Resource: "requests.cpu", Divisor: resource.MustParse("1")}}},
		},
	}
	env, skipped, err := containerEnv(context.Background(), newObjectCache(objs, "default"), envPod(c), c)
	if err != nil {
		t.Fatal(err)
	}
	want := "LEVEL=3 MODE=slow S_pass=hunter2 FROM_CM=3 PASS=hunter2 POD=web NS=default UID=u-1 TEAM=blue IP=10.244.1.5 HOST=10.0.0.1 NODE=n1 MEM_MI=64 CPU_M=250 CPU=1"
	if got := strings.Join(env, " "); got != want {
		t.Errorf("env\n got %s\nwant %s", got, want)
	}
	if strings.Join(skipped, ",") != "1bad" {
		t.Errorf("skipped %v, want the key that is no variable name", skipped)
	}
	if objs.reads != 3 { // cfg, s, absent: each read once
		t.Errorf("%d reads, want 3 (one per object)", objs.reads)
	}
}

func TestContainerEnvNamesWhatIsMissing(t *testing.T) {
	objs := newFakeObjects()
	objs.putConfigMap("cfg", map[string]string{"A": "1"})
	ref := func(name, key string) api.EnvVar {
		return api.EnvVar{Name: "X", ValueFrom: &api.EnvVarSource{ConfigMapKeyRef: &api.ConfigMapKeySelector{LocalObjectReference: api.LocalObjectReference{Name: name}, Key: key}}}
	}
	for _, tc := range []struct {
		c    api.Container
		want string
	}{
		{api.Container{Env: []api.EnvVar{ref("cfg", "B")}}, "env X: couldn't find key B in ConfigMap default/cfg"},
		{api.Container{Env: []api.EnvVar{ref("none", "A")}}, `env X: configmap "none" not found`},
		{api.Container{EnvFrom: []api.EnvFromSource{{SecretRef: &api.SecretEnvSource{LocalObjectReference: api.LocalObjectReference{Name: "s"}}}}}, `secret "s" not found`},
		{api.Container{Env: []api.EnvVar{{Name: "S", ValueFrom: &api.EnvVarSource{SecretKeyRef: &api.SecretKeySelector{LocalObjectReference: api.LocalObjectReference{Name: "s"}, Key: "k"}}}}}, `env S: secret "s" not found`},
	} {
		_, _, err := containerEnv(context.Background(), newObjectCache(objs, "default"), envPod(tc.c), tc.c)
		if err == nil || err.Error() != tc.want {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
	c := api.Container{Env: []api.EnvVar{ref("cfg", "A")}}
	if _, _, err := containerEnv(context.Background(), newObjectCache(nil, "default"), envPod(c), c); err == nil || !strings.Contains(err.Error(), "no source of ConfigMaps") {
		t.Errorf("without a source: %v", err)
	}
}
