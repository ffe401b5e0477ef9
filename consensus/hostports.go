package consensus

import (
	"slices"

	"github.com/shoal-dev/shoal/api"
)

// hostNetwork pods (api/hostnetwork.go) run in their node's network
// namespace: their IP is the node's, shared by all of them and held by no
// pod block, and the node ports they take are counted per node so that
// placement (placement/hostports.go) and BindPod's re-check refuse a
// second pod claiming a taken port.

// bindIP is the IP a pod gets bound to node: the node's own for a
// hostNetwork pod, else the chosen pod IP, checked against the node's
// block and the IPs in use.
func (s *state) bindIP(node *api.Node, p *api.Pod, chosen string) (string, error) {
	if p.Spec.HostNetwork {
		ip := internalIP(node)
		if ip == "" {
			return "", rejectf("node %s has no address for a hostNetwork pod", node.ObjectMeta.Name)
		}
		return ip, nil
	}
	ip, err := s.checkPodIP(node, chosen, api.Key(p.ObjectMeta.Namespace, p.ObjectMeta.Name))
	if err != nil {
		return "", err
	}
	return ip.String(), nil
}

// countPorts returns a copy of counts with ports added (sign +1) or taken
// away (sign -1); NodeInfos hand the map out, so it is never changed in
// place.
func countPorts(counts map[string]int, ports []string, sign int) map[string]int {
	next := make(map[string]int, len(counts)+len(ports))
	for k, v := range counts {
		next[k] = v
	}
	for _, port := range ports {
		if next[port] += sign; next[port] <= 0 {
			delete(next, port)
		}
	}
	if len(next) == 0 {
		return nil
	}
	return next
}

func hostPortsChanged(old, p *api.Pod) bool {
	if old == nil || p == nil {
		return old != p
	}
	return !slices.Equal(api.HostPorts(old), api.HostPorts(p))
}
