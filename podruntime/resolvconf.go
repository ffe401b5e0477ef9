package podruntime

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/shoal-dev/shoal/api"
)

// ClusterDNS is the node's DNS server for the cluster domain, which pods
// with dnsPolicy ClusterFirst resolve through.
type ClusterDNS struct {
	// Nameserver is the server's IPv4 address (port 53).
	Nameserver string
	// Domain is the cluster domain, e.g. cluster.local.
	Domain string
}

// resolvConf is a ClusterFirst pod's /etc/resolv.conf, as the kubelet
// writes it: the node's cluster DNS, Kubernetes' search path from the
// pod's namespace, ndots:5.
func (d *ClusterDNS) resolvConf(namespace string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "search %s.svc.%s svc.%s %s\n", namespace, d.Domain, d.Domain, d.Domain)
	fmt.Fprintf(&b, "nameserver %s\n", d.Nameserver)
	b.WriteString("options ndots:5\n")
	return []byte(b.String())
}

// usesClusterDNS reports whether pod resolves through the cluster DNS:
// ClusterFirst (also when unset, Kubernetes' default) and
// ClusterFirstWithHostNet (shoal has no host-network pods). Default keeps
// the image's own resolv.conf.
func usesClusterDNS(pod *api.Pod) bool {
	switch pod.Spec.DNSPolicy {
	case "", api.DNSClusterFirst, api.DNSClusterFirstWithHostNet:
		return true
	}
	return false
}

// resolvConfMount writes the pod's resolv.conf into its sandbox (again on
// every container start, so a sandbox adopted from an older agent gets it
// too) and returns its mount, or no mount when the pod does not use the
// cluster DNS or the node serves none.
func (r *Runtime) resolvConfMount(pod *api.Pod) ([]specs.Mount, error) {
	if r.clusterDNS == nil || !usesClusterDNS(pod) {
		return nil, nil
	}
	dir := r.sandboxDir(string(pod.ObjectMeta.UID))
	path := filepath.Join(dir, "resolv.conf")
	want := r.clusterDNS.resolvConf(pod.ObjectMeta.Namespace)
	if have, err := os.ReadFile(path); err != nil || !bytes.Equal(have, want) {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			return nil, fmt.Errorf("write resolv.conf of pod %s: %w", pod.ObjectMeta.UID, err)
		}
	}
	return []specs.Mount{sandboxFileMount(dir, "resolv.conf", "/etc/resolv.conf")}, nil
}
