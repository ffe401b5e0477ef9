package placement

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
)

func withInit(p *api.Pod, mems ...string) *api.Pod {
	for i, m := range mems {
		p.Spec.InitContainers = append(p.Spec.InitContainers, api.Container{
			Name: "init" + string(rune('a'+i)), Image: "i:1",
			Resources: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceMemory: resource.MustParse(m)}},
		})
	}
	return p
}

func TestInitContainersCountAsTheirMaximumNotTheirSum(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pod      *api.Pod
		node     string
		wantFits bool
	}{
		// app 1Gi, init 1Gi + 1Gi: init containers run one at a time, so the pod needs 1Gi.
		{"inits smaller than apps", withInit(pod("1Gi"), "1Gi", "1Gi"), "1Gi", true},
		// app 0.5Gi, one init 1.5Gi: the init container alone needs 1.5Gi.
		{"largest init dominates", withInit(pod("0.5Gi"), "1Gi", "1.5Gi"), "1Gi", false},
		{"largest init fits", withInit(pod("0.5Gi"), "1Gi", "1.5Gi"), "1.5Gi", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fits, reason := Fits(tc.pod, node("n", tc.node, "2", nil))
			if fits != tc.wantFits {
				t.Fatalf("Fits = %v (%s), want %v", fits, reason, tc.wantFits)
			}
		})
	}
}

func TestPodRequestsTakesMaxOfAppSumAndEachInitPerResource(t *testing.T) {
	p := withInit(pod("1Gi", "1Gi"), "3Gi")
	p.Spec.InitContainers[0].Resources.Requests[api.ResourceCPU] = resource.MustParse("100m")
	p.Spec.Containers[0].Resources.Requests[api.ResourceCPU] = resource.MustParse("500m")
	got := api.PodRequests(p)
	mem, cpu := api.QuantityOf(got, api.ResourceMemory), api.QuantityOf(got, api.ResourceCPU)
	if mem.Cmp(resource.MustParse("3Gi")) != 0 {
		t.Errorf("memory %s, want 3Gi (the init container's, larger than the 2Gi app sum)", mem.String())
	}
	if cpu.Cmp(resource.MustParse("500m")) != 0 {
		t.Errorf("cpu %s, want 500m (the app sum, larger than the init's 100m)", cpu.String())
	}
}
