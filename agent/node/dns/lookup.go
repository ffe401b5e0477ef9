package dns

import "net/netip"

// Lookup is the cluster state the server answers from. Implementations read
// a local copy and must be safe for concurrent use; every query calls them,
// so they must not block on the network.
type Lookup interface {
	// Service returns the Service namespace/name, if it exists.
	Service(namespace, name string) (Service, bool)
	// PodIP reports whether a pod in namespace has ip (for
	// A-B-C-D.NS.pod.cluster.local).
	PodIP(namespace string, ip netip.Addr) bool
}

// Service is what DNS needs of a Service.
type Service struct {
	// ClusterIP is the virtual IP; the zero Addr means headless.
	ClusterIP netip.Addr
	Ports     []Port
	// Endpoints are the ready endpoints; a headless Service answers with
	// their addresses.
	Endpoints []Endpoint
}

// Port is a service port; only named ports get SRV records.
type Port struct {
	Name     string
	Protocol string // "TCP", "UDP" or "SCTP"
	Port     uint16
}

// Endpoint is one ready endpoint of a Service.
type Endpoint struct {
	IP netip.Addr
	// Hostname (a pod's spec.hostname under a matching subdomain) names the
	// endpoint's own record; without one the record is the dashed IP.
	Hostname string
}

func (s Service) headless() bool { return !s.ClusterIP.IsValid() }
