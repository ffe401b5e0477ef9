package svcproxy

import (
	"sort"
	"strings"

	"sigs.k8s.io/knftables"
)

// mapTypes are the verdict maps' key types.
var mapTypes = map[string]string{
	mapServiceIPs:          "ipv4_addr . inet_proto . inet_service : verdict",
	mapServiceNodePorts:    "inet_proto . inet_service : verdict",
	mapNoEndpointServices:  "ipv4_addr . inet_proto . inet_service : verdict",
	mapNoEndpointNodePorts: "inet_proto . inet_service : verdict",
}

// baseChain is a chain hooked into the kernel.
type baseChain struct {
	name     string
	typ      knftables.BaseChainType
	hook     knftables.BaseChainHook
	priority knftables.BaseChainPriority
	rule     string
}

// baseChains: NAT in prerouting (pods routed through the node) and output
// (the node's own namespace, hostNetwork); the no-endpoint check in filter
// chains just before them, since reject is not allowed in a nat chain.
// Priorities are numbers because nft accepts "dstnat" only in prerouting.
var baseChains = []baseChain{
	{"nat-prerouting", knftables.NATType, knftables.PreroutingHook, "-100", "jump " + chainServices},
	{"nat-output", knftables.NATType, knftables.OutputHook, "-100", "jump " + chainServices},
	{"filter-prerouting", knftables.FilterType, knftables.PreroutingHook, "-110", "ct state new jump " + chainEndpointsCheck},
	{"filter-output", knftables.FilterType, knftables.OutputHook, "-110", "ct state new jump " + chainEndpointsCheck},
}

// nodePortMatch selects packets to one of the node's own addresses; loopback
// is left out because DNAT from 127.0.0.0/8 needs route_localnet.
const nodePortMatch = "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @"

// writeSkeleton adds the fixed objects: the table, its maps and the chains
// every ruleset has. It is written only by a full rebuild: rewriting a base
// chain makes the kernel re-validate every path from it, which is the
// biggest cost of a transaction on a large table.
func writeSkeleton(tx *knftables.Transaction) {
	tx.Add(&knftables.Table{Comment: knftables.PtrTo("shoal service proxy")})
	for _, name := range sortedKeys(mapTypes) {
		tx.Add(&knftables.Map{Name: name, Type: mapTypes[name]})
	}
	fixed := []struct {
		name  string
		rules []string
	}{
		{chainReject, []string{"reject"}},
		{chainServices, []string{
			"ip daddr . meta l4proto . th dport vmap @" + mapServiceIPs,
			nodePortMatch + mapServiceNodePorts,
		}},
		{chainEndpointsCheck, []string{
			"ip daddr . meta l4proto . th dport vmap @" + mapNoEndpointServices,
			nodePortMatch + mapNoEndpointNodePorts,
		}},
	}
	for _, c := range fixed {
		tx.Add(&knftables.Chain{Name: c.name})
		for _, r := range c.rules {
			tx.Add(&knftables.Rule{Chain: c.name, Rule: r})
		}
	}
	for _, b := range baseChains {
		tx.Add(&knftables.Chain{
			Name:     b.name,
			Type:     knftables.PtrTo(b.typ),
			Hook:     knftables.PtrTo(b.hook),
			Priority: knftables.PtrTo(b.priority),
		})
		tx.Add(&knftables.Rule{Chain: b.name, Rule: b.rule})
	}
}

// writeFull writes a transaction that replaces whatever table is there with
// exactly want: the table is deleted and rebuilt inside the one transaction.
func writeFull(tx *knftables.Transaction, want *ruleset) {
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	writeSkeleton(tx)
	writeDiff(tx, &ruleset{}, want)
}

// writeDiff writes a transaction that moves the table from have (what the
// last successful transaction left) to want, touching only what changed.
// Order matters inside a transaction: a chain or set can only go once nothing
// refers to it, and a rule can only refer to what already exists.
func writeDiff(tx *knftables.Transaction, have, want *ruleset) {
	// Map elements that go or change: delete first, so a chain they point at
	// can be deleted below.
	for _, name := range sortedKeys(mapTypes) {
		for _, k := range changedKeys(have.maps[name], want.maps[name]) {
			tx.Delete(&knftables.Element{Map: name, Key: splitKey(k)})
		}
	}
	// New affinity sets before the rules that use them.
	for _, name := range sortedKeys(want.affinity) {
		if _, ok := have.affinity[name]; !ok {
			tx.Add(&knftables.Set{
				Name:    name,
				Type:    "ipv4_addr",
				Flags:   []knftables.SetFlag{knftables.DynamicFlag, knftables.TimeoutFlag},
				Timeout: knftables.PtrTo(want.affinity[name]),
			})
		}
	}
	// Chains that go: flushed first (a service chain refers to endpoint
	// chains), deleted after every flush.
	var gone []string
	for _, name := range missingKeys(have.chains, want.chains) {
		gone = append(gone, name)
		tx.Flush(&knftables.Chain{Name: name})
	}
	// Chains that are new or changed: created, then written. Endpoint chains
	// sort before the service chains ("ep-" < "svc-") that jump to them.
	var written []string
	for name, rules := range want.chains {
		if old, existed := have.chains[name]; !existed || !chainsEqual(old, rules) {
			written = append(written, name)
		}
	}
	sort.Strings(written)
	for _, name := range written {
		_, existed := have.chains[name]
		tx.Add(&knftables.Chain{Name: name})
		if existed {
			tx.Flush(&knftables.Chain{Name: name})
		}
		for _, r := range want.chains[name] {
			tx.Add(&knftables.Rule{Chain: name, Rule: r})
		}
	}
	for _, name := range gone {
		tx.Delete(&knftables.Chain{Name: name})
	}
	for _, name := range sortedKeys(have.affinity) {
		if _, ok := want.affinity[name]; !ok {
			tx.Delete(&knftables.Set{Name: name})
		}
	}
	// New and changed map elements last, once their chains exist.
	for _, name := range sortedKeys(mapTypes) {
		for _, k := range changedKeys(want.maps[name], have.maps[name]) {
			tx.Add(&knftables.Element{Map: name, Key: splitKey(k), Value: []string{want.maps[name][k]}})
		}
	}
}

// changedKeys are the keys of a, sorted, whose value b lacks or differs:
// only what changed is sorted, since a sync usually changes little.
func changedKeys(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// missingKeys are the keys of a, sorted, that b lacks.
func missingKeys[V any](a, b map[string]V) []string {
	var out []string
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func splitKey(k string) []string { return strings.Split(k, " . ") }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
