package api

import "k8s.io/apimachinery/pkg/api/resource"

// PodRequests is what a whole pod asks of a node: the sum of its
// containers' requests. Placement works on whole pods only.
func PodRequests(p *Pod) ResourceList {
	out := ResourceList{}
	for _, c := range p.Spec.Containers {
		for name, q := range c.Resources.Requests {
			sum := out[name]
			sum.Add(q)
			out[name] = sum
		}
	}
	return out
}

// Get returns the quantity of name, zero when absent.
func (rl ResourceList) Get(name string) resource.Quantity {
	if q, ok := rl[name]; ok {
		return q
	}
	return resource.Quantity{}
}
