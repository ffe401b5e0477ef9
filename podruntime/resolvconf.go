package podruntime

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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

// DefaultHostResolvConf is the machine's resolver configuration, the base
// of a dnsPolicy Default pod's resolv.conf when the pod has a dnsConfig.
const DefaultHostResolvConf = "/etc/resolv.conf"

// resolver is the content of a resolv.conf: nameservers, search domains
// and options ("name" or "name:value").
type resolver struct {
	nameservers, searches, options []string
}

func (r *resolver) bytes() []byte {
	var b strings.Builder
	if len(r.searches) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(r.searches, " "))
	}
	for _, ns := range r.nameservers {
		fmt.Fprintf(&b, "nameserver %s\n", ns)
	}
	if len(r.options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(r.options, " "))
	}
	return []byte(b.String())
}

// clusterResolver is a ClusterFirst pod's resolver, as the kubelet writes
// it: the node's cluster DNS, Kubernetes' search path from the pod's
// namespace, ndots:5.
func (d *ClusterDNS) clusterResolver(namespace string) *resolver {
	return &resolver{
		nameservers: []string{d.Nameserver},
		searches:    []string{namespace + ".svc." + d.Domain, "svc." + d.Domain, d.Domain},
		options:     []string{"ndots:5"},
	}
}

// parseResolvConf reads the lines of a resolv.conf the pod's resolver
// keeps: nameserver, search (domain counts as a one-domain search, as
// glibc reads it) and options.
func parseResolvConf(data []byte) *resolver {
	r := &resolver{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			r.nameservers = append(r.nameservers, f[1])
		case "search", "domain":
			// The last search or domain line wins, as in glibc.
			r.searches = append([]string(nil), f[1:]...)
		case "options":
			r.options = append(r.options, f[1:]...)
		}
	}
	return r
}

// withConfig adds a pod's dnsConfig as the kubelet does: its nameservers
// and search domains after the policy's, duplicates dropped, at most 3
// nameservers and 32 search domains (glibc reads no more); its options
// replace the policy's option of the same name.
func (r *resolver) withConfig(c *api.PodDNSConfig) *resolver {
	out := &resolver{
		nameservers: unique(append(slices.Clone(r.nameservers), c.Nameservers...)),
		searches:    unique(append(slices.Clone(r.searches), c.Searches...)),
	}
	if len(out.nameservers) > api.MaxDNSNameservers {
		out.nameservers = out.nameservers[:api.MaxDNSNameservers]
	}
	if len(out.searches) > api.MaxDNSSearchPaths {
		out.searches = out.searches[:api.MaxDNSSearchPaths]
	}
	index := map[string]int{}
	add := func(opt string) {
		name, _, _ := strings.Cut(opt, ":")
		if i, ok := index[name]; ok {
			out.options[i] = opt
			return
		}
		index[name] = len(out.options)
		out.options = append(out.options, opt)
	}
	for _, o := range r.options {
		add(o)
	}
	for _, o := range c.Options {
		if o.Value != nil {
			add(o.Name + ":" + *o.Value)
		} else {
			add(o.Name)
		}
	}
	return out
}

func unique(xs []string) []string {
	seen := map[string]bool{}
	out := xs[:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// podResolvConf is the resolv.conf pod gets, or nil to keep its image's:
//   - ClusterFirst (also unset, Kubernetes' default) of a pod with its
//     own network, and ClusterFirstWithHostNet, on a node with cluster
//     DNS: the cluster resolver plus the pod's dnsConfig;
//   - Default (and ClusterFirst on a node without cluster DNS, as the
//     kubelet without --cluster-dns, or of a hostNetwork pod): the image's resolv.conf, or with a
//     dnsConfig the machine's resolv.conf (read by host) plus it;
//   - None: the dnsConfig alone.
func podResolvConf(pod *api.Pod, cluster *ClusterDNS, host func() ([]byte, error)) ([]byte, error) {
	cfg := pod.Spec.DNSConfig
	var base *resolver
	switch pod.Spec.DNSPolicy {
	case api.DNSNone:
		base = &resolver{}
	case "", api.DNSClusterFirst, api.DNSClusterFirstWithHostNet:
		// A hostNetwork pod asks for the cluster's resolver only with
		// ClusterFirstWithHostNet; with ClusterFirst it gets Default, as
		// the kubelet does.
		if cluster != nil && (!pod.Spec.HostNetwork || pod.Spec.DNSPolicy == api.DNSClusterFirstWithHostNet) {
			base = cluster.clusterResolver(pod.ObjectMeta.Namespace)
		}
	}
	if base == nil {
		if cfg == nil {
			return nil, nil
		}
		data, err := host()
		if err != nil {
			return nil, fmt.Errorf("read the machine's resolv.conf for dnsPolicy Default: %w", err)
		}
		base = parseResolvConf(data)
	}
	if cfg != nil {
		base = base.withConfig(cfg)
	}
	return base.bytes(), nil
}

// resolvConfMount writes the pod's resolv.conf into its sandbox (again on
// every sync, so a sandbox adopted from an older agent or made again after
// a power cut gets it too) and returns its mount, or no mount when the pod
// keeps its image's.
func (r *Runtime) resolvConfMount(pod *api.Pod) ([]specs.Mount, error) {
	want, err := podResolvConf(pod, r.clusterDNS, func() ([]byte, error) { return os.ReadFile(r.hostResolvConf) })
	if err != nil || want == nil {
		return nil, err
	}
	dir := r.sandboxDir(string(pod.ObjectMeta.UID))
	path := filepath.Join(dir, "resolv.conf")
	if have, err := os.ReadFile(path); err != nil || !bytes.Equal(have, want) {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			return nil, fmt.Errorf("write resolv.conf of pod %s: %w", pod.ObjectMeta.UID, err)
		}
	}
	return []specs.Mount{sandboxFileMount(dir, "resolv.conf", "/etc/resolv.conf")}, nil
}
