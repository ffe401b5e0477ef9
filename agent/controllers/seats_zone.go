package controllers

import "slices"

// zoneLabel is the node label of a node's zone (the agent's --zone).
const zoneLabel = "topology.kubernetes.io/zone"

// seatOrder is names with the agents of zone first, each part in its
// given order. An agent outside the zone still takes a seat when none in
// it can: fewer voters would cost the fleet its quorum sooner than a seat
// behind a slow uplink costs it latency.
func seatOrder(names []string, byName map[string]Member, zone string) []string {
	if zone == "" {
		return names
	}
	out := slices.Clone(names)
	slices.SortStableFunc(out, func(a, b string) int {
		ia, ib := byName[a].Labels[zoneLabel] == zone, byName[b].Labels[zoneLabel] == zone
		switch {
		case ia == ib:
			return 0
		case ia:
			return -1
		}
		return 1
	})
	return out
}
