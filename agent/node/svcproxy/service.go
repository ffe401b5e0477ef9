package svcproxy

import (
	"fmt"
	"net/netip"
	"time"
)

// Protocol is a service port's transport protocol.
type Protocol string

// The protocols the proxy forwards.
const (
	TCP Protocol = "TCP"
	UDP Protocol = "UDP"
)

// nft is the protocol's name in nftables rules.
func (p Protocol) nft() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return ""
}

// Service is one Service as the proxy needs it: its virtual IP, its ports
// and the endpoints that are ready now. A Service without a ClusterIP
// (headless) is not proxied.
type Service struct {
	Namespace string
	Name      string
	// ClusterIP is the virtual IPv4 address; the zero Addr means headless.
	ClusterIP netip.Addr
	Ports     []Port
	// ExternalIPs are more IPv4 addresses the Service's ports are served
	// on, as on its ClusterIP (spec.externalIPs).
	ExternalIPs []netip.Addr
	// SessionAffinity, when set, sends every new connection from one client
	// IP to the endpoint it used last, until Timeout passes without one.
	SessionAffinity *ClientIPAffinity
	// Endpoints are the ready endpoints only; a service port with none
	// rejects new connections.
	Endpoints []Endpoint
}

// Port is one service port.
type Port struct {
	Name     string
	Protocol Protocol
	Port     uint16
	// TargetPort is the endpoint port used when an endpoint does not name
	// this port in its Ports (a numeric targetPort); 0 means the endpoint
	// must name it.
	TargetPort uint16
	// NodePort, when not 0, is also served on every local address of the
	// node.
	NodePort uint16
}

// ClientIPAffinity is sessionAffinity: ClientIP.
type ClientIPAffinity struct {
	Timeout time.Duration
}

// Endpoint is one ready endpoint.
type Endpoint struct {
	IP netip.Addr
	// Ports maps a service port name to this endpoint's port for it (an
	// EndpointSlice's ports, so a targetPort by container port name resolves
	// per pod).
	Ports map[string]uint16
}

// key is the Service's namespace/name.
func (s *Service) key() string { return s.Namespace + "/" + s.Name }

// headless reports whether the Service has no virtual IP to proxy.
func (s *Service) headless() bool { return !s.ClusterIP.IsValid() }

// targetPort is ep's port for service port p, or 0 if ep has none.
func (ep Endpoint) targetPort(p Port) uint16 {
	if tp, ok := ep.Ports[p.Name]; ok {
		return tp
	}
	return p.TargetPort
}

// validate checks the whole desired set; the first problem is returned with
// the field path, the value and why, and nothing is programmed. Paths are
// written only for an error: this runs on every sync of the whole fleet.
func validate(svcs []Service) error {
	type vip struct {
		ip    netip.Addr
		proto Protocol
		port  uint16
	}
	type nodePort struct {
		proto Protocol
		port  uint16
	}
	seenSvc := make(map[string]int, len(svcs))
	seenVIP := make(map[vip]string, 2*len(svcs))
	seenNodePort := map[nodePort]string{}
	for i := range svcs {
		s := &svcs[i]
		if s.Namespace == "" || s.Name == "" {
			return fmt.Errorf("services[%d]: namespace %q and name %q must both be set", i, s.Namespace, s.Name)
		}
		key := s.key()
		path := func() string { return fmt.Sprintf("services[%d](%s)", i, key) }
		if j, dup := seenSvc[key]; dup {
			return fmt.Errorf("%s: duplicate of services[%d]", path(), j)
		}
		seenSvc[key] = i
		if s.ClusterIP.IsValid() && !s.ClusterIP.Is4() {
			return fmt.Errorf("%s.clusterIP: %s: only IPv4 is supported", path(), s.ClusterIP)
		}
		for j, ip := range s.ExternalIPs {
			if !ip.Is4() {
				return fmt.Errorf("%s.externalIPs[%d]: %s: must be an IPv4 address", path(), j, ip)
			}
			if !s.ClusterIP.IsValid() {
				return fmt.Errorf("%s.externalIPs[%d]: %s: a headless service is not proxied", path(), j, ip)
			}
		}
		if a := s.SessionAffinity; a != nil && a.Timeout < time.Second {
			return fmt.Errorf("%s.sessionAffinity.timeout: %s: must be at least 1s", path(), a.Timeout)
		}
		for j, p := range s.Ports {
			pp := func() string { return fmt.Sprintf("%s.ports[%d]", path(), j) }
			for _, q := range s.Ports[:j] {
				if q.Name == p.Name {
					return fmt.Errorf("%s.name: %q: duplicate port name", pp(), p.Name)
				}
			}
			if p.Protocol.nft() == "" {
				return fmt.Errorf("%s.protocol: %q: must be TCP or UDP", pp(), p.Protocol)
			}
			if p.Port == 0 {
				return fmt.Errorf("%s.port: 0: must be 1-65535", pp())
			}
			if s.ClusterIP.IsValid() {
				for _, ip := range append([]netip.Addr{s.ClusterIP}, s.ExternalIPs...) {
					v := vip{ip, p.Protocol, p.Port}
					if other, dup := seenVIP[v]; dup {
						return fmt.Errorf("%s: %s/%s/%d is also served by %s", pp(), ip, p.Protocol, p.Port, other)
					}
					seenVIP[v] = key
				}
			}
			if p.NodePort != 0 {
				np := nodePort{p.Protocol, p.NodePort}
				if other, dup := seenNodePort[np]; dup {
					return fmt.Errorf("%s.nodePort: %d: also used by %s", pp(), p.NodePort, other)
				}
				seenNodePort[np] = key
			}
		}
		for j, ep := range s.Endpoints {
			if !ep.IP.Is4() {
				return fmt.Errorf("%s.endpoints[%d].ip: %s: must be an IPv4 address", path(), j, ep.IP)
			}
			for name, port := range ep.Ports {
				if port == 0 {
					return fmt.Errorf("%s.endpoints[%d].ports[%q]: 0: must be 1-65535", path(), j, name)
				}
			}
		}
	}
	return nil
}

// Validate checks svcs as Sync does, without programming anything.
func Validate(svcs []Service) error { return validate(svcs) }
