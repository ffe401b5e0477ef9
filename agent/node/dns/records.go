package dns

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// zone answers questions for names inside the cluster domain; it is pure
// apart from the Lookup it reads.
type zone struct {
	origin string // lower case, fully qualified: "cluster.local."
	ttl    uint32
	lookup Lookup
}

// contains reports whether name (lower case, fully qualified) is in the
// zone.
func (z *zone) contains(name string) bool {
	return name == z.origin || strings.HasSuffix(name, "."+z.origin)
}

// answer fills m (already a reply to q) for a name inside the zone.
func (z *zone) answer(q dns.Question, m *dns.Msg) {
	name := strings.ToLower(q.Name)
	m.Authoritative = true
	if name == z.origin {
		if q.Qtype == dns.TypeSOA || q.Qtype == dns.TypeANY {
			m.Answer = append(m.Answer, z.soa())
		} else {
			m.Ns = append(m.Ns, z.soa())
		}
		return
	}
	rrs, extra, exists := z.records(name, q.Qtype)
	switch {
	case !exists:
		m.Rcode = dns.RcodeNameError
		m.Ns = append(m.Ns, z.soa())
	case len(rrs) == 0:
		// The name exists with other types: NODATA.
		m.Ns = append(m.Ns, z.soa())
	default:
		m.Answer = append(m.Answer, rrs...)
		m.Extra = append(m.Extra, extra...)
	}
}

// records returns the answers of type qtype for name, extra records for the
// additional section, and whether name exists at all.
func (z *zone) records(name string, qtype uint16) (rrs, extra []dns.RR, exists bool) {
	labels := dns.SplitDomainName(strings.TrimSuffix(name, "."+z.origin))
	n := len(labels)
	switch {
	// NAME.NS.svc
	case n == 3 && labels[2] == "svc":
		svc, ok := z.lookup.Service(labels[1], labels[0])
		if !ok {
			return nil, nil, false
		}
		if qtype == dns.TypeA || qtype == dns.TypeANY {
			rrs = z.serviceA(name, svc)
		}
		return rrs, nil, true
	// HOST.NAME.NS.svc: one endpoint of a headless Service
	case n == 4 && labels[3] == "svc":
		svc, ok := z.lookup.Service(labels[2], labels[1])
		if !ok || !svc.headless() {
			return nil, nil, false
		}
		for _, ep := range svc.Endpoints {
			if endpointLabel(ep) == labels[0] {
				if qtype == dns.TypeA || qtype == dns.TypeANY {
					rrs = append(rrs, z.a(name, ep.IP))
				}
				exists = true
			}
		}
		return rrs, nil, exists
	// _PORT._PROTO.NAME.NS.svc
	case n == 5 && labels[4] == "svc" && strings.HasPrefix(labels[0], "_") && strings.HasPrefix(labels[1], "_"):
		svc, ok := z.lookup.Service(labels[3], labels[2])
		if !ok {
			return nil, nil, false
		}
		port, ok := findPort(svc, labels[0][1:], labels[1][1:])
		if !ok {
			return nil, nil, false
		}
		if qtype == dns.TypeSRV || qtype == dns.TypeANY {
			rrs, extra = z.srv(name, labels[2]+"."+labels[3]+".svc."+z.origin, svc, port)
		}
		return rrs, extra, true
	// A-B-C-D.NS.pod
	case n == 3 && labels[2] == "pod":
		ip, err := netip.ParseAddr(strings.ReplaceAll(labels[0], "-", "."))
		if err != nil || !ip.Is4() || !z.lookup.PodIP(labels[1], ip) {
			return nil, nil, false
		}
		if qtype == dns.TypeA || qtype == dns.TypeANY {
			rrs = append(rrs, z.a(name, ip))
		}
		return rrs, nil, true
	}
	return nil, nil, false
}

// serviceA is the ClusterIP, or every ready endpoint of a headless Service.
func (z *zone) serviceA(name string, svc Service) []dns.RR {
	if !svc.headless() {
		return []dns.RR{z.a(name, svc.ClusterIP)}
	}
	rrs := make([]dns.RR, 0, len(svc.Endpoints))
	for _, ep := range svc.Endpoints {
		rrs = append(rrs, z.a(name, ep.IP))
	}
	return rrs
}

// srv is one record pointing at the Service's own name, or for a headless
// Service one per endpoint with its address in the additional section.
func (z *zone) srv(name, svcName string, svc Service, port Port) (rrs, extra []dns.RR) {
	hdr := dns.RR_Header{Name: name, Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: z.ttl}
	if !svc.headless() {
		rrs = append(rrs, &dns.SRV{Hdr: hdr, Priority: 0, Weight: 100, Port: port.Port, Target: svcName})
		extra = append(extra, z.a(svcName, svc.ClusterIP))
		return rrs, extra
	}
	for _, ep := range svc.Endpoints {
		target := endpointLabel(ep) + "." + svcName
		rrs = append(rrs, &dns.SRV{Hdr: hdr, Priority: 0, Weight: 100, Port: port.Port, Target: target})
		extra = append(extra, z.a(target, ep.IP))
	}
	return rrs, extra
}

func findPort(svc Service, name, proto string) (Port, bool) {
	for _, p := range svc.Ports {
		if p.Name != "" && strings.EqualFold(p.Name, name) && strings.EqualFold(p.Protocol, proto) {
			return p, true
		}
	}
	return Port{}, false
}

// endpointLabel is an endpoint's own label: its hostname, else its dashed
// IP.
func endpointLabel(ep Endpoint) string {
	if ep.Hostname != "" {
		return strings.ToLower(ep.Hostname)
	}
	return strings.ReplaceAll(ep.IP.String(), ".", "-")
}

func (z *zone) a(name string, ip netip.Addr) dns.RR {
	return &dns.A{
		Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: z.ttl},
		A:   ip.AsSlice(),
	}
}

// soa goes in the authority section of negative answers; its minimum TTL
// is how long resolvers cache the NXDOMAIN, kept as short as positive
// answers so a new Service resolves quickly.
func (z *zone) soa() dns.RR {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: z.origin, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: z.ttl},
		Ns:      "ns.dns." + z.origin,
		Mbox:    "hostmaster." + z.origin,
		Serial:  1,
		Refresh: 7200,
		Retry:   1800,
		Expire:  86400,
		Minttl:  z.ttl,
	}
}
