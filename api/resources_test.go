package api

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
)

func TestResourceListEqualComparesQuantities(t *testing.T) {
	q := resource.MustParse
	a := ResourceList{ResourceMemory: q("1Gi"), ResourceCPU: q("500m")}
	for _, c := range []struct {
		b    ResourceList
		want bool
	}{
		{ResourceList{ResourceMemory: q("1024Mi"), ResourceCPU: q("0.5")}, true},
		{ResourceList{ResourceMemory: q("1Gi")}, false},
		{ResourceList{ResourceMemory: q("1Gi"), ResourceCPU: q("501m")}, false},
		{ResourceList{ResourceMemory: q("1Gi"), ResourcePods: q("500m")}, false},
	} {
		if got := ResourcesEqual(a, c.b); got != c.want {
			t.Errorf("%v.Equal(%v) = %v, want %v", a, c.b, got, c.want)
		}
	}
}
