package agent

import "github.com/shoal-dev/shoal/api"

// podCondition finds a pod's condition of the given type, nil when it has
// none: what the tests here assert on.
func podCondition(p *api.Pod, typ api.PodConditionType) *api.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == typ {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}
