package consensus

import (
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func specWithAll() *api.PodSpec {
	return &api.PodSpec{
		RestartPolicy:  api.RestartAlways,
		Volumes:        []api.Volume{{Name: "data", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}}},
		InitContainers: []api.Container{{Name: "init", Image: "busybox:1", ImagePullPolicy: "IfNotPresent"}},
		Containers: []api.Container{{Name: "app", Image: "busybox:1", ImagePullPolicy: "IfNotPresent",
			VolumeMounts:   []api.VolumeMount{{Name: "data", MountPath: "/data"}},
			ReadinessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{TCPSocket: &api.TCPSocketAction{Port: api.FromInt(80)}}, PeriodSeconds: 10}}},
	}
}

func TestSpecChangeAllowsImagesOnlyAlsoForInitContainers(t *testing.T) {
	next := specWithAll()
	next.Containers[0].Image = "busybox:latest"
	next.Containers[0].ImagePullPolicy = "Always" // what defaulting makes of the new tag
	next.InitContainers[0].Image = "busybox:2"
	if fe := immutableSpecChange(specWithAll(), next); fe != nil {
		t.Fatalf("image change refused: %v", fe)
	}
}

func TestSpecChangeRefusesVolumesMountsProbesAndInitContainers(t *testing.T) {
	for want, change := range map[string]func(*api.PodSpec){
		"spec.volumes[0].name":                            func(s *api.PodSpec) { s.Volumes[0].Name = "other" },
		"spec.containers[0].volumeMounts[0].mountPath":    func(s *api.PodSpec) { s.Containers[0].VolumeMounts[0].MountPath = "/x" },
		"spec.containers[0].readinessProbe.periodSeconds": func(s *api.PodSpec) { s.Containers[0].ReadinessProbe.PeriodSeconds = 5 },
		"spec.initContainers[0].command":                  func(s *api.PodSpec) { s.InitContainers[0].Command = []string{"true"} },
		"spec.initContainers": func(s *api.PodSpec) {
			s.InitContainers = append(s.InitContainers, api.Container{Name: "b", Image: "i:1"})
		},
		"spec.containers[0].readinessProbe.tcpSocket.port": func(s *api.PodSpec) { s.Containers[0].ReadinessProbe.TCPSocket.Port = api.FromString("http") },
	} {
		next := specWithAll()
		change(next)
		fe := immutableSpecChange(specWithAll(), next)
		if fe == nil || fe.Path != want || !strings.Contains(fe.Detail, "immutable") {
			t.Errorf("change of %s: got %v", want, fe)
		}
	}
}
