package consensus

import (
	"fmt"
	"net/netip"

	"github.com/shoal-dev/shoal/api"
)

// DefaultServiceCIDR is the range ClusterIPs come from when a Service
// command leaves it out, as Kubernetes' default --service-cluster-ip-range.
const DefaultServiceCIDR = "10.96.0.0/16"

// The service range's size bounds: a /12 is Kubernetes' largest IPv4
// service range; a /28 leaves 14 addresses.
const (
	minServiceBits = 12
	maxServiceBits = 28
)

// serviceIndex is derived from the stored Services like the pod IP index:
// which Service holds each ClusterIP and each node port. Never serialised;
// putService and removeService keep it current and reindex rebuilds it.
type serviceIndex struct {
	ips       map[netip.Addr]string // ClusterIP -> the Service's key
	nodePorts map[int32]string      // node port -> the Service's key
}

func newServiceIndex() serviceIndex {
	return serviceIndex{ips: map[netip.Addr]string{}, nodePorts: map[int32]string{}}
}

func (ix *serviceIndex) add(key string, svc *api.Service) {
	if ip, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
		ix.ips[ip] = key
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			ix.nodePorts[p.NodePort] = key
		}
	}
}

func (ix *serviceIndex) remove(key string, svc *api.Service) {
	if ip, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil && ix.ips[ip] == key {
		delete(ix.ips, ip)
	}
	for _, p := range svc.Spec.Ports {
		if ix.nodePorts[p.NodePort] == key {
			delete(ix.nodePorts, p.NodePort)
		}
	}
}

// parseServiceCIDR reads a command's service range (the default when
// empty).
func parseServiceCIDR(cidr string) (netip.Prefix, error) {
	if cidr == "" {
		cidr = DefaultServiceCIDR
	}
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return netip.Prefix{}, rejectf("service CIDR %q: %v", cidr, err)
	}
	p = p.Masked()
	if !p.Addr().Is4() {
		return netip.Prefix{}, rejectf("service CIDR %s: only IPv4 is supported", p)
	}
	if p.Bits() < minServiceBits || p.Bits() > maxServiceBits {
		return netip.Prefix{}, rejectf("service CIDR %s: must be between /%d and /%d", p, minServiceBits, maxServiceBits)
	}
	return p, nil
}

// staticBand is how many addresses at the bottom of the range automatic
// allocation leaves for requested ones (Kubernetes' KEP-3070: size/16,
// at least 16 and at most 256), so that the well-known addresses a fleet
// asks for by number (.1, a DNS Service's .10) stay free for it.
func staticBand(rangeSize uint64) uint64 {
	return min(max(rangeSize/16, 16), 256)
}

// allocateClusterIP returns the lowest free address of the range above the
// static band, or the lowest free one in the band when the rest is full.
// It reads only the state, so every server picks the same.
func (s *state) allocateClusterIP(cidr netip.Prefix) (netip.Addr, error) {
	base := addrToUint(cidr.Addr())
	size := uint64(1) << uint(32-cidr.Bits())
	first, last := base+1, base+size-2 // not the network or broadcast address
	start := base + staticBand(size)
	if start > last {
		start = first
	}
	for _, r := range [][2]uint64{{start, last}, {first, start - 1}} {
		for v := r[0]; v <= r[1]; v++ {
			if _, taken := s.ix.services.ips[uintToAddr(v)]; !taken {
				return uintToAddr(v), nil
			}
		}
	}
	return netip.Addr{}, rejectf("service CIDR %s has no free address left for another Service", cidr)
}

// assignClusterIP gives a new Service (stored under key) its ClusterIP: a
// requested one if it is in the range and free, else the next free one; a
// headless Service gets none.
func (s *state) assignClusterIP(key string, svc *api.Service, cidr netip.Prefix) error {
	sp := &svc.Spec
	switch sp.ClusterIP {
	case api.ClusterIPNone:
		return nil
	case "":
		ip, err := s.allocateClusterIP(cidr)
		if err != nil {
			return err
		}
		sp.ClusterIP = ip.String()
		sp.ClusterIPs = []string{sp.ClusterIP}
		return nil
	}
	ip, err := netip.ParseAddr(sp.ClusterIP)
	if err != nil {
		// api.ValidateService refuses it first; kept for a command that
		// skipped it.
		return &api.FieldError{Path: "spec.clusterIP", Value: sp.ClusterIP, Detail: "not an IP address"}
	}
	size := uint64(1) << uint(32-cidr.Bits())
	switch {
	case !cidr.Contains(ip):
		return &api.FieldError{Path: "spec.clusterIP", Value: sp.ClusterIP, Detail: "not in the service range " + cidr.String()}
	case ip == cidr.Addr():
		return &api.FieldError{Path: "spec.clusterIP", Value: sp.ClusterIP, Detail: "the network address of the service range " + cidr.String()}
	case addrToUint(ip) == addrToUint(cidr.Addr())+size-1:
		return &api.FieldError{Path: "spec.clusterIP", Value: sp.ClusterIP, Detail: "the broadcast address of the service range " + cidr.String()}
	}
	if holder, taken := s.ix.services.ips[ip]; taken && holder != key {
		return &api.FieldError{Path: "spec.clusterIP", Value: sp.ClusterIP, Detail: "already allocated to Service " + holder}
	}
	return nil
}

// assignNodePorts checks the node ports a NodePort Service asks for and
// allocates the rest, lowest free first. As in Kubernetes, ports with the
// same number and different protocols share one node port, and a node port
// is the fleet's once whatever its protocol.
func (s *state) assignNodePorts(key string, svc *api.Service) error {
	if !api.NeedsNodePorts(svc) {
		return nil
	}
	ports := svc.Spec.Ports
	// mine is every node port of this Service, claimed by protocol: a
	// shared number must not give one protocol the same node port twice.
	mine := map[int32]bool{}
	claimed := map[string]bool{}
	claim := func(p *api.ServicePort) {
		mine[p.NodePort] = true
		claimed[fmt.Sprintf("%d/%s", p.NodePort, p.Protocol)] = true
	}
	var errs api.FieldErrors
	for i, p := range ports {
		if p.NodePort == 0 {
			continue
		}
		if holder, taken := s.ix.services.nodePorts[p.NodePort]; taken && holder != key {
			errs = append(errs, &api.FieldError{Path: fmt.Sprintf("spec.ports[%d].nodePort", i), Value: fmt.Sprint(p.NodePort),
				Detail: "provided port is already allocated to Service " + holder})
		}
		claim(&ports[i])
	}
	if len(errs) > 0 {
		return errs
	}
	next := int32(api.MinNodePort)
	for i := range ports {
		p := &ports[i]
		if p.NodePort != 0 {
			continue
		}
		for _, q := range ports {
			if q.Port == p.Port && q.Protocol != p.Protocol && q.NodePort != 0 && !claimed[fmt.Sprintf("%d/%s", q.NodePort, p.Protocol)] {
				p.NodePort = q.NodePort
				break
			}
		}
		if p.NodePort != 0 {
			claim(p)
			continue
		}
		for ; next <= api.MaxNodePort; next++ {
			holder, taken := s.ix.services.nodePorts[next]
			if (!taken || holder == key) && !mine[next] {
				break
			}
		}
		if next > api.MaxNodePort {
			return rejectf("no free node port left in %d-%d", api.MinNodePort, api.MaxNodePort)
		}
		p.NodePort = next
		claim(p)
	}
	return nil
}
