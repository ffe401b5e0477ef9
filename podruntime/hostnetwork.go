package podruntime

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/shoal-dev/shoal/api"
)

// A hostNetwork pod (api/hostnetwork.go) runs in its node's network
// namespace. SyncPod takes that namespace's path for it (the agent's own,
// /proc/self/ns/net: in the lab a node's namespace, never the host's) and
// pins it into the pod's sandbox as "net", like the IPC and UTS
// namespaces: the containers, probes and hooks then name one path that
// stays the same across agent restarts, so an adopted container's spec
// hash does not change.

// optionalSandboxNamespaces are pinned only for some pods; removing a
// sandbox unmounts them too.
var optionalSandboxNamespaces = []string{"net"}

// hostNetns pins the node's namespace at nodeNetns into the pod's sandbox
// (once) and returns the pinned path.
func (r *Runtime) hostNetns(pod *api.Pod, nodeNetns string) (string, error) {
	if nodeNetns == "" {
		return "", fmt.Errorf("hostNetwork pod %s: no node network namespace given", pod.ObjectMeta.UID)
	}
	target := r.sandboxNSPath(string(pod.ObjectMeta.UID), "net")
	if isNSMount(target) {
		return target, nil
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_RDONLY, 0o444)
	if err != nil {
		return "", fmt.Errorf("create mount point %s: %w", target, err)
	}
	f.Close()
	// /proc/self/ns/net is a magic link: the bind follows it to the
	// namespace, as `ip netns add` does.
	if err := unix.Mount(nodeNetns, target, "", unix.MS_BIND, ""); err != nil {
		return "", fmt.Errorf("pin node network namespace %s at %s: %w", nodeNetns, target, err)
	}
	return target, nil
}

// podHostname is the hostname the pod's containers see: a hostNetwork pod
// is named after its node, as in Kubernetes (it keeps its own UTS
// namespace, so it cannot rename the machine).
func podHostname(pod *api.Pod) string {
	if pod.Spec.HostNetwork && pod.Spec.NodeName != "" {
		return pod.Spec.NodeName
	}
	if pod.Spec.Hostname != "" {
		return pod.Spec.Hostname
	}
	return pod.ObjectMeta.Name
}
