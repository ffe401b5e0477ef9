package api

import "k8s.io/apimachinery/pkg/api/resource"

// PodRequests is what a whole pod asks of a node: the sum of its
// containers' requests, or, per resource, the largest request of one init
// container when that is more (init containers run one at a time, before
// the app containers, so only the largest of them is ever held). Placement
// works on whole pods only. Sidecars (sidecars.go) keep running once
// started, so, as in Kubernetes, they add to the app containers and to
// every init container that runs after them.
func PodRequests(p *Pod) ResourceList {
	out := ResourceList{}
	for _, c := range p.Spec.Containers {
		addRequests(out, c.Resources.Requests)
	}
	sidecars := ResourceList{}
	peak := ResourceList{}
	for i := range p.Spec.InitContainers {
		c := &p.Spec.InitContainers[i]
		held := ResourceList{}
		addRequests(held, sidecars)
		addRequests(held, c.Resources.Requests)
		if IsSidecar(c) {
			addRequests(sidecars, c.Resources.Requests)
		}
		for name, q := range held {
			if cur, ok := peak[name]; !ok || q.Cmp(cur) > 0 {
				peak[name] = q.DeepCopy()
			}
		}
	}
	addRequests(out, sidecars)
	for name, q := range peak {
		if cur, ok := out[name]; !ok || q.Cmp(cur) > 0 {
			out[name] = q
		}
	}
	return out
}

func addRequests(to, from ResourceList) {
	for name, q := range from {
		sum := to[name].DeepCopy()
		sum.Add(q)
		to[name] = sum
	}
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
