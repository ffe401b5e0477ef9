// Package hollow holds the in-memory twins of the node side's container
// runtime and pod network, which a hollow agent (`shoal sim`) runs in
// place of containerd and netplane: everything else in such an agent is
// the real one (gossip, Raft, the API, the reconciler, status reports).
// The twins answer what agent/node's PodRuntime and Network interfaces
// ask, instantly and without touching the machine, so a thousand agents
// fit in one process on loopback. Their real twins, podruntime.Runtime
// and netplane.Plane, run in every e2e test.
package hollow
