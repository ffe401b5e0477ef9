package svcproxy

import (
	"maps"
	"reflect"
	"slices"
	"unsafe"
)

// A sync plans only the Services that changed, as kube-proxy's partial
// syncs do: the proxy keeps each Service it last applied with the rules
// built from it (a piece), so one changed endpoint rebuilds and compares
// one Service's rules, not the whole fleet's. What still visits every
// Service is validation and the cheap comparison of each Service with its
// piece.

// piece is one Service as the last successful Sync applied it, and the
// rules built from it alone.
type piece struct {
	svc Service
	rs  *ruleset
}

// plan is what moves the table from the applied pieces to a new list of
// Services.
type plan struct {
	// have and want hold the rules of the changed Services only: before
	// (nil pieces for new Services) and after (none for removed ones).
	have, want *ruleset
	// oldSvcs and newSvcs are the changed Services before and after, for
	// the conntrack flush.
	oldSvcs, newSvcs []Service
	// set and removed change the pieces once the plan is applied.
	set     map[string]*piece
	removed []string
	// rebuilt counts the Services whose rules were built.
	rebuilt int
}

// planSync compares svcs (validated) with the applied pieces.
func planSync(applied map[string]*piece, svcs []Service) *plan {
	pl := &plan{have: newRuleset(), want: newRuleset(), set: map[string]*piece{}}
	kept := 0
	for i := range svcs {
		s := &svcs[i]
		key := s.key()
		old := applied[key]
		if old != nil {
			kept++
			if serviceEqual(&old.svc, s) {
				continue
			}
			pl.have.merge(old.rs)
			pl.oldSvcs = append(pl.oldSvcs, old.svc)
		}
		np := &piece{svc: cloneService(s), rs: buildRuleset(svcs[i : i+1])}
		pl.rebuilt++
		pl.set[key] = np
		pl.want.merge(np.rs)
		pl.newSvcs = append(pl.newSvcs, np.svc)
	}
	if kept < len(applied) {
		// Some applied Service is gone: only then is a set of the new
		// keys worth building.
		now := make(map[string]bool, len(svcs))
		for i := range svcs {
			now[svcs[i].key()] = true
		}
		for key, old := range applied {
			if !now[key] {
				pl.removed = append(pl.removed, key)
				pl.have.merge(old.rs)
				pl.oldSvcs = append(pl.oldSvcs, old.svc)
			}
		}
		slices.Sort(pl.removed)
	}
	return pl
}

// empty reports whether the plan changes nothing.
func (pl *plan) empty() bool { return len(pl.set) == 0 && len(pl.removed) == 0 }

// applyTo returns the pieces after the plan, leaving applied as it was
// (a failed transaction keeps the last successful pieces).
func (pl *plan) applyTo(applied map[string]*piece) map[string]*piece {
	if pl.empty() && applied != nil {
		return applied
	}
	next := make(map[string]*piece, len(applied)+len(pl.set))
	for k, v := range applied {
		next[k] = v
	}
	for _, k := range pl.removed {
		delete(next, k)
	}
	for k, v := range pl.set {
		next[k] = v
	}
	return next
}

// wholeRuleset merges every piece: what a full rebuild writes.
func wholeRuleset(pieces map[string]*piece) *ruleset {
	rs := newRuleset()
	for _, p := range pieces {
		rs.merge(p.rs)
	}
	return rs
}

// merge adds src's objects to rs; the pieces of validated Services never
// share a chain, a set or a map key.
func (rs *ruleset) merge(src *ruleset) {
	maps.Copy(rs.chains, src.chains)
	maps.Copy(rs.affinity, src.affinity)
	maps.Copy(rs.dnat, src.dnat)
	for name, m := range src.maps {
		maps.Copy(rs.maps[name], m)
	}
}

// serviceEqual reports whether a and b give the same rules for certain:
// the same fields, ports and endpoints in the same order.
func serviceEqual(a, b *Service) bool {
	if a.Namespace != b.Namespace || a.Name != b.Name || a.ClusterIP != b.ClusterIP ||
		!slices.Equal(a.Ports, b.Ports) || !slices.Equal(a.ExternalIPs, b.ExternalIPs) || len(a.Endpoints) != len(b.Endpoints) {
		return false
	}
	if (a.SessionAffinity == nil) != (b.SessionAffinity == nil) ||
		a.SessionAffinity != nil && *a.SessionAffinity != *b.SessionAffinity {
		return false
	}
	// The endpoints of one EndpointSlice share its ports' map: a pair of
	// maps found equal is not compared again.
	var lastA, lastB unsafe.Pointer
	for i := range a.Endpoints {
		x, y := &a.Endpoints[i], &b.Endpoints[i]
		if x.IP != y.IP {
			return false
		}
		pa, pb := mapPointer(x.Ports), mapPointer(y.Ports)
		if pa == lastA && pb == lastB && pa != nil {
			continue
		}
		if !maps.Equal(x.Ports, y.Ports) {
			return false
		}
		lastA, lastB = pa, pb
	}
	return true
}

// mapPointer identifies a map (nil for a nil map).
func mapPointer(m map[string]uint16) unsafe.Pointer { return reflect.ValueOf(m).UnsafePointer() }

// cloneService copies what a caller could change under a kept piece.
func cloneService(s *Service) Service {
	c := *s
	c.Ports = slices.Clone(s.Ports)
	c.ExternalIPs = slices.Clone(s.ExternalIPs)
	if s.SessionAffinity != nil {
		a := *s.SessionAffinity
		c.SessionAffinity = &a
	}
	// Endpoints that shared a map share its copy, so serviceEqual's
	// shortcut works on kept pieces too.
	c.Endpoints = make([]Endpoint, len(s.Endpoints))
	var last, lastCopy map[string]uint16
	for i, ep := range s.Endpoints {
		if ep.Ports == nil || mapPointer(ep.Ports) != mapPointer(last) {
			last, lastCopy = ep.Ports, maps.Clone(ep.Ports)
		}
		c.Endpoints[i] = Endpoint{IP: ep.IP, Ports: lastCopy}
	}
	return c
}
