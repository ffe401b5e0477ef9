package placement

import "github.com/shoal-dev/shoal/api"

// portTaken is the first node port the pod would take on n that a
// hostNetwork pod already bound there holds, "" when none: two processes
// cannot listen on one port of one network namespace, and a hostNetwork
// pod's namespace is its node's.
func portTaken(pod *api.Pod, n *NodeInfo) string {
	if !pod.Spec.HostNetwork || len(n.HostPorts) == 0 {
		return ""
	}
	for _, port := range api.HostPorts(pod) {
		if n.HostPorts[port] > 0 {
			return port
		}
	}
	return ""
}
