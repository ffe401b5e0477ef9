package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/containerd"
)

// ContainerdNamespace is the containerd namespace node's agent runs its
// pods in.
func (l *Lab) ContainerdNamespace(node string) string { return containerdNS(l.Name, node) }

// PodNetnsPrefix is the name prefix (under /run/netns) of the pod network
// namespaces node's agent makes.
func (l *Lab) PodNetnsPrefix(node string) string { return podNetnsPrefix(l.Name, node) }

// NetnsDir is where named network namespaces live.
const NetnsDir = netnsDir

// AgentPIDs lists the running agent processes of node (normally one).
func (l *Lab) AgentPIDs(node string) []int {
	n, err := l.Node(node)
	if err != nil {
		return nil
	}
	return agentPIDs(n)
}

// Leftovers lists what of lab name is still on the host: network
// namespaces (node, pod, the guest's and the lab's own, and with them
// their veths), the host link, processes started under the lab's
// directory, mounts under it, the directory itself, and, when the lab used
// a shared containerd at containerdAddr, its containerd namespaces. Empty
// after a clean Down.
// containerdAddr is "" for a lab that ran its own containerd (which Down
// stops and whose state goes with the directory).
func Leftovers(ctx context.Context, stateRoot, name, containerdAddr string) ([]string, error) {
	if stateRoot == "" {
		stateRoot = DefaultStateRoot
	}
	stateRoot, err := filepath.Abs(stateRoot)
	if err != nil {
		return nil, fmt.Errorf("lab %s leftovers: state root: %w", name, err)
	}
	var left []string
	all, err := listNetns()
	if err != nil {
		return nil, fmt.Errorf("lab %s leftovers: %w", name, err)
	}
	for _, ns := range all {
		if ownsNetns(name, ns) {
			left = append(left, "netns "+ns)
		}
	}
	// Every copy of a namespace mount counts, also one stacked under
	// another or hidden under a later bind of the directory.
	nsMounts, err := netnsMounts(name)
	if err != nil {
		return nil, fmt.Errorf("lab %s leftovers: %w", name, err)
	}
	for _, m := range nsMounts {
		left = append(left, "netns mount "+m)
	}
	if hostLinkExists(hostLinkName(name)) {
		left = append(left, "host link "+hostLinkName(name))
	}
	dir := stateDir(stateRoot, name)
	for _, pid := range processesMentioningDir(dir) {
		left = append(left, fmt.Sprintf("process %d (%s)", pid, cmdline(pid)))
	}
	mps, err := mountsUnder(dir)
	if err != nil {
		return nil, fmt.Errorf("lab %s leftovers: %w", name, err)
	}
	for _, m := range mps {
		left = append(left, "mount "+m)
	}
	if _, err := os.Stat(dir); err == nil {
		left = append(left, "state dir "+dir)
	}
	for _, p := range machineRemnants(name) {
		left = append(left, "machine remnant "+p)
	}
	for _, p := range machineCgroups(name) {
		left = append(left, "machine cgroup "+p)
	}
	if containerdAddr != "" {
		nss, err := containerdNamespacesOf(ctx, containerdAddr, name)
		if err != nil {
			return nil, fmt.Errorf("lab %s leftovers: %w", name, err)
		}
		for _, ns := range nss {
			left = append(left, "containerd namespace "+ns)
		}
	}
	return left, nil
}

// ownsNetns reports whether the namespace named ns belongs to lab name: its
// own, a node's, a pod's or the guest's. Not merely one that starts with
// its name: lab a-b's namespaces (shoal-a-b-n1) are not lab a's.
func ownsNetns(name, ns string) bool {
	return ns == labNetns(name) || ownedNetnsRE(name).MatchString(ns) || ns == GuestNetns(name)
}

// netnsMounts lists the mounts in the namespace directory that belong to
// lab name, one entry per mount (a name twice when it is stacked).
func netnsMounts(name string) ([]string, error) {
	mps, err := mountsUnder(netnsDir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, mp := range mps {
		if filepath.Dir(mp) == netnsDir && ownsNetns(name, filepath.Base(mp)) {
			out = append(out, filepath.Base(mp))
		}
	}
	return out, nil
}

func hostLinkExists(name string) bool {
	_, err := os.Stat(filepath.Join("/sys/class/net", name))
	return err == nil
}

func containerdNamespacesOf(ctx context.Context, addr, name string) ([]string, error) {
	client, err := containerd.New(addr)
	if err != nil {
		return nil, fmt.Errorf("connect containerd %s: %w", addr, err)
	}
	defer client.Close()
	all, err := client.NamespaceService().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list containerd namespaces at %s: %w", addr, err)
	}
	var out []string
	re := ownedContainerdNSRE(name)
	for _, ns := range all {
		if re.MatchString(ns) {
			out = append(out, ns)
		}
	}
	return out, nil
}
