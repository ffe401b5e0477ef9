package svcproxy

import (
	"fmt"
	"sort"
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
}

// buildRuleset turns validated Services into a ruleset.
func buildRuleset(svcs []Service) *ruleset {
	rs := &ruleset{
		chains:   map[string][]string{},
		affinity: map[string]time.Duration{},
		maps: map[string]map[string]string{
			mapServiceIPs:          {},
			mapServiceNodePorts:    {},
			mapNoEndpointServices:  {},
			mapNoEndpointNodePorts: {},
		},
	}
	for i := range svcs {
		s := &svcs[i]
		if s.headless() {
			continue
		}
		for _, p := range s.Ports {
			rs.addServicePort(s, p)
		}
	}
	return rs
}

func (rs *ruleset) addServicePort(s *Service, p Port) {
	proto := p.Protocol.nft()
	vipKey := fmt.Sprintf("%s . %s . %d", s.ClusterIP, proto, p.Port)
	npKey := fmt.Sprintf("%s . %d", proto, p.NodePort)

	type target struct {
		ip       string
		port     uint16
		chain    string // only with affinity
		affinity string
	}
	var targets []target
	var timeout time.Duration
	if s.SessionAffinity != nil {
		timeout = s.SessionAffinity.Timeout.Truncate(time.Second)
	}
	seen := map[string]bool{}
	for _, ep := range s.Endpoints {
		t := target{ip: ep.IP.String(), port: ep.targetPort(p)}
		id := fmt.Sprintf("%s:%d", t.ip, t.port)
		if t.port == 0 || seen[id] {
			continue
		}
		seen[id] = true
		targets = append(targets, t)
	}
	if len(targets) == 0 {
		rs.maps[mapNoEndpointServices][vipKey] = "goto " + chainReject
		if p.NodePort != 0 {
			rs.maps[mapNoEndpointNodePorts][npKey] = "goto " + chainReject
		}
		return
	}
	// A stable order, so the same endpoints give the same rules and an
	// unchanged service is not rewritten.
	sort.Slice(targets, func(i, j int) bool {
		if targets[i].ip != targets[j].ip {
			return targets[i].ip < targets[j].ip
		}
		return targets[i].port < targets[j].port
	})

	var rules []string
	if timeout == 0 {
		// The common case needs no chain per endpoint: numgen picks the
		// address and port straight from an anonymous map. Every chain and
		// jump costs the kernel a validation walk on each commit, so fewer
		// chains keep a transaction fast.
		var m []string
		for i, t := range targets {
			m = append(m, fmt.Sprintf("%d : %s . %d", i, t.ip, t.port))
		}
		rules = append(rules, fmt.Sprintf("meta l4proto %s dnat ip to numgen random mod %d map { %s }",
			proto, len(targets), strings.Join(m, " , ")))
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
	if p.NodePort != 0 {
		rs.maps[mapServiceNodePorts][npKey] = "goto " + chain
	}
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
