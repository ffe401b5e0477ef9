package node

import (
	"context"
	"fmt"
	"net"

	"github.com/shoal-dev/shoal/api"
)

// nodeNetns is this agent's own network namespace: the node's (in the
// lab, the node's namespace, never the host's). A hostNetwork pod runs in
// it; podruntime pins it into the pod's sandbox.
const nodeNetns = "/proc/self/ns/net"

// podNetwork wires the pod into the network and returns the namespace its
// containers join: its own, made by the network plane at its IP, or the
// node's for a hostNetwork pod, which the network plane leaves alone.
func (n *Reconciler) podNetwork(ctx context.Context, p *api.Pod) (string, error) {
	if p.Spec.HostNetwork {
		return nodeNetns, nil
	}
	ip := net.ParseIP(p.Status.PodIP)
	if ip == nil {
		return "", fmt.Errorf("pod is bound without an IP")
	}
	nsPath, err := n.d.Network.SetupPod(ctx, podNetID(string(p.ObjectMeta.UID)), ip)
	if err != nil {
		return "", fmt.Errorf("pod network: %w", err)
	}
	return nsPath, nil
}
