package printers

import (
	"sort"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// NodeColumns are kubectl's node columns, then shoal's own: the pod block
// and what placement counts as taken (requested/allocatable).
func NodeColumns() []Column {
	return []Column{
		{"Name", "string", nameDesc, 0},
		{"Status", "string", "The status of the node", 0},
		{"Roles", "string", "The roles of the node", 0},
		{"Age", "string", ageDesc, 0},
		{"Version", "string", "Kubelet Version reported by the node.", 0},
		{"Internal-IP", "string", "List of addresses reachable to the node. Queried from cloud provider, if available.", 1},
		{"External-IP", "string", "List of addresses reachable to the node. Queried from cloud provider, if available.", 1},
		{"OS-Image", "string", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1},
		{"Kernel-Version", "string", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1},
		{"Container-Runtime", "string", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", 1},
		{"Pod-Block", "string", "The block of pod IPs the fleet gave the node (spec.podCIDR).", 1},
		{"CPU", "string", "CPU requested by the node's unfinished pods / allocatable.", 1},
		{"Memory", "string", "Memory requested by the node's unfinished pods / allocatable.", 1},
		{"Pods", "string", "Unfinished pods bound to the node.", 1},
	}
}

// Node is the row of n under NodeColumns. Roles are Kubernetes' role
// labels, then shoal's (server, leader, client) from the read-time
// annotation (api.AnnotationRoles), or from the server label when the
// agent that answered did not add it (server; client when the node has
// no other role); allocation is "<unknown>" without
// the read-time annotations.
func Node(n *api.Node, now time.Time) []any {
	status := []string{"Unknown"}
	for _, c := range n.Status.Conditions {
		if c.Type == api.NodeReady {
			status[0] = "NotReady"
			if c.Status == api.ConditionTrue {
				status[0] = "Ready"
			}
		}
	}
	if n.Spec.Unschedulable {
		status = append(status, "SchedulingDisabled")
	}
	var roles []string
	for k, v := range n.ObjectMeta.Labels {
		if r, ok := strings.CutPrefix(k, "node-role.kubernetes.io/"); ok && r != "" {
			roles = append(roles, r)
		} else if k == "kubernetes.io/role" && v != "" {
			roles = append(roles, v)
		}
	}
	sort.Strings(roles)
	ann := n.ObjectMeta.Annotations
	if r := ann[api.AnnotationRoles]; r != "" {
		roles = append(roles, r)
	} else if _, ok := n.ObjectMeta.Labels[api.LabelServerRole]; ok {
		roles = append(roles, "server")
	} else if len(roles) == 0 {
		roles = append(roles, "client")
	}
	used := func(key string, res api.ResourceName) string {
		have, ok := ann[key]
		if !ok {
			return "<unknown>"
		}
		q := api.QuantityOf(n.Status.Allocatable, res)
		return have + "/" + q.String()
	}
	addr := func(typ api.NodeAddressType) string {
		for _, a := range n.Status.Addresses {
			if a.Type == typ {
				return a.Address
			}
		}
		return "<none>"
	}
	unknown := func(s string) string {
		if s == "" {
			return "<unknown>"
		}
		return s
	}
	info := n.Status.NodeInfo
	return []any{
		n.ObjectMeta.Name, strings.Join(status, ","), strings.Join(roles, ","),
		Age(n.ObjectMeta.CreationTimestamp.Time, now), info.KubeletVersion,
		addr(api.NodeInternalIP), addr(api.NodeExternalIP),
		unknown(info.OSImage), unknown(info.KernelVersion), unknown(info.ContainerRuntimeVersion),
		OrNone(n.Spec.PodCIDR), used(api.AnnotationAllocatedCPU, api.ResourceCPU),
		used(api.AnnotationAllocatedMemory, api.ResourceMemory), used(api.AnnotationPods, api.ResourcePods),
	}
}
