package api

import "k8s.io/apimachinery/pkg/api/resource"

// PodRequests is what a whole pod asks of a node: the sum of its
// containers' requests, or, per resource, the largest request of one init
// container when that is more (init containers run one at a time, before
// the app containers, so only the largest of them is ever held). Placement
// works on whole pods only.
func PodRequests(p *Pod) ResourceList {
	out := ResourceList{}
	for _, c := range p.Spec.Containers {
		for name, q := range c.Resources.Requests {
			sum := out[name]
			sum.Add(q)
			out[name] = sum
		}
	}
	for _, c := range p.Spec.InitContainers {
		for name, q := range c.Resources.Requests {
			if cur, ok := out[name]; !ok || q.Cmp(cur) > 0 {
				out[name] = q.DeepCopy()
			}
		}
	}
	return out
}

// QuantityOf returns the quantity of name in rl, zero when absent.
func QuantityOf(rl ResourceList, name ResourceName) resource.Quantity {
	if q, ok := rl[name]; ok {
		return q
	}
	return resource.Quantity{}
}

// ResourcesEqual tells whether a and b name the same resources in equal
// amounts, compared as quantities (1Gi equals 1024Mi).
func ResourcesEqual(a, b ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, q := range a {
		if oq, ok := b[k]; !ok || q.Cmp(oq) != 0 {
			return false
		}
	}
	return true
}
