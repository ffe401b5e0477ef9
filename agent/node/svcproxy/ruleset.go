package svcproxy

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The fixed objects of the table.
const (
	mapServiceIPs          = "service-ips"
	mapServiceNodePorts    = "service-nodeports"
	mapNoEndpointServices  = "no-endpoint-services"
	mapNoEndpointNodePorts = "no-endpoint-nodeports"

	chainServices       = "services"
	chainEndpointsCheck = "endpoints-check"
	chainReject         = "reject-chain"
)

// ruleset is the whole desired content of the table apart from its fixed
// skeleton: a pure function of the Services, so the transaction that moves
// the kernel from one ruleset to the next can be computed by comparing two
// of them.
type ruleset struct {
	// chains maps a per-service or per-endpoint chain to its rules.
	chains map[string][]string
	// maps maps a verdict map's name to its elements, key -> verdict.
	maps map[string]map[string]string
	// affinity maps a ClientIP affinity set to its timeout.
	affinity map[string]time.Duration
	// dnat holds, for a service chain without affinity, the one rule of
	// chains[name] as data, so a change of endpoints alone can go to the
	// kernel over netlink (netlinkfast.go).
	dnat map[string]dnatRule
}

// dnatRule is "meta l4proto PROTO dnat ip to numgen random mod N map
// { i : ADDR . PORT }" over targets in that order.
type dnatRule struct {
	proto   Protocol
	targets []dnatTarget
}

type dnatTarget struct {
	addr netip.Addr
	port uint16
}

// newRuleset is an empty ruleset.
func newRuleset() *ruleset {
	return &ruleset{
		chains:   map[string][]string{},
		affinity: map[string]time.Duration{},
		dnat:     map[string]dnatRule{},
		maps: map[string]map[string]string{
			mapServiceIPs:          {},
			mapServiceNodePorts:    {},
			mapNoEndpointServices:  {},
			mapNoEndpointNodePorts: {},
		},
	}
}

// buildRuleset turns validated Services into a ruleset.
func buildRuleset(svcs []Service) *ruleset {
	rs := newRuleset()
	var ips []string
	for i := range svcs {
		s := &svcs[i]
		if s.headless() {
			continue
		}
		// Each endpoint's address is written once, not once per port.
		ips = ips[:0]
		for _, ep := range s.Endpoints {
			ips = append(ips, ep.IP.String())
		}
		for _, p := range s.Ports {
			rs.addServicePort(s, p, ips)
		}
	}
	return rs
}

// addServicePort adds one service port; ips are the endpoints' addresses
// in the order of s.Endpoints. The common path is written with strconv,
// not fmt: a full rebuild builds every Service of the fleet.
func (rs *ruleset) addServicePort(s *Service, p Port, ips []string) {
	proto := p.Protocol.nft()
	vipKey := ips4Key(s.ClusterIP.String(), proto, p.Port)
	npKey := proto + " . " + strconv.Itoa(int(p.NodePort))

	type target struct {
		ip       string
		addr     netip.Addr
		port     uint16
		chain    string // only with affinity
		affinity string
	}
	targets := make([]target, 0, len(s.Endpoints))
	var timeout time.Duration
	if s.SessionAffinity != nil {
		timeout = s.SessionAffinity.Timeout.Truncate(time.Second)
	}
	for i, ep := range s.Endpoints {
		if t := (target{ip: ips[i], addr: ep.IP, port: ep.targetPort(p)}); t.port != 0 {
			targets = append(targets, t)
		}
	}
	// The external IPs' keys, beside the ClusterIP's.
	extKeys := make([]string, len(s.ExternalIPs))
	for i, ip := range s.ExternalIPs {
		extKeys[i] = ips4Key(ip.String(), proto, p.Port)
	}
	if len(targets) == 0 {
		rs.maps[mapNoEndpointServices][vipKey] = "goto " + chainReject
		for _, k := range extKeys {
			rs.maps[mapNoEndpointServices][k] = "goto " + chainReject
		}
		if p.NodePort != 0 {
			rs.maps[mapNoEndpointNodePorts][npKey] = "goto " + chainReject
		}
		return
	}
	// A stable order, so the same endpoints give the same rules and an
	// unchanged service is not rewritten.
	slices.SortFunc(targets, func(a, b target) int {
		if c := strings.Compare(a.ip, b.ip); c != 0 {
			return c
		}
		return cmp.Compare(a.port, b.port)
	})
	// The same address and port twice is one endpoint.
	targets = slices.CompactFunc(targets, func(a, b target) bool { return a.ip == b.ip && a.port == b.port })

	var rules []string
	if timeout == 0 {
		// The common case needs no chain per endpoint: numgen picks the
		// address and port straight from an anonymous map. Every chain and
		// jump costs the kernel a validation walk on each commit, so fewer
		// chains keep a transaction fast.
		b := make([]byte, 0, 64+len(targets)*32)
		b = append(b, "meta l4proto "...)
		b = append(b, proto...)
		b = append(b, " dnat ip to numgen random mod "...)
		b = strconv.AppendInt(b, int64(len(targets)), 10)
		b = append(b, " map { "...)
		for i, t := range targets {
			if i > 0 {
				b = append(b, " , "...)
			}
			b = strconv.AppendInt(b, int64(i), 10)
			b = append(b, " : "...)
			b = append(b, t.ip...)
			b = append(b, " . "...)
			b = strconv.AppendUint(b, uint64(t.port), 10)
		}
		b = append(b, " }"...)
		rules = append(rules, string(b))
		d := dnatRule{proto: p.Protocol, targets: make([]dnatTarget, len(targets))}
		for i, t := range targets {
			d.targets[i] = dnatTarget{t.addr, t.port}
		}
		rs.dnat[serviceChain(s, p)] = d
	} else {
		// With ClientIP affinity each endpoint has a chain that records the
		// client in the endpoint's set; a known client goes straight back.
		// " , " (not ", ") keeps knftables.Fake's reference check able to
		// read the chain names.
		var vmap []string
		for i := range targets {
			t := &targets[i]
			t.chain = endpointChain(s, p, t.ip, t.port)
			t.affinity = affinitySet(s, p, t.ip, t.port, int64(timeout/time.Second))
			rs.affinity[t.affinity] = timeout
			rs.chains[t.chain] = []string{
				fmt.Sprintf("update @%s { ip saddr }", t.affinity),
				fmt.Sprintf("meta l4proto %s dnat to %s:%d", proto, t.ip, t.port),
			}
			rules = append(rules, fmt.Sprintf("ip saddr @%s goto %s", t.affinity, t.chain))
			vmap = append(vmap, fmt.Sprintf("%d : goto %s", i, t.chain))
		}
		rules = append(rules, fmt.Sprintf("numgen random mod %d vmap { %s }", len(targets), strings.Join(vmap, " , ")))
	}
	chain := serviceChain(s, p)
	rs.chains[chain] = rules
	rs.maps[mapServiceIPs][vipKey] = "goto " + chain
	for _, k := range extKeys {
		rs.maps[mapServiceIPs][k] = "goto " + chain
	}
	if p.NodePort != 0 {
		rs.maps[mapServiceNodePorts][npKey] = "goto " + chain
	}
}

// ips4Key is a service-ips map key: address . protocol . port.
func ips4Key(ip, proto string, port uint16) string {
	return ip + " . " + proto + " . " + strconv.Itoa(int(port))
}

// chainsEqual reports whether two rule lists are the same.
func chainsEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
