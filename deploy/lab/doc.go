// Package lab runs a whole shoal fleet on one Linux host, one network
// namespace per node, for users, end-to-end tests and benchmarks.
//
// Shape of a lab named NAME:
//
//	host ns:   one veth (HostLink) with LabCIDR .1/24, the only thing the lab
//	           puts in the host namespace; it gives the CLI a way to the agents.
//	shoal-NAME:     the lab namespace, holding bridge br0 and the far ends of
//	                every veth.
//	shoal-NAME-nK:  one namespace per node: lo, eth0 with LabCIDR .10+K/24,
//	                no default route, and the node's agent process.
//
// All nodes share one containerd (the lab's own unless Config.Containerd
// names one) and each uses its own containerd namespace shoal-NAME-nK.
package lab
