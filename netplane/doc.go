// Package netplane wires pods into shoal's flat, routed, NAT-free pod network.
//
// Shape of the network (the model is CNI's ptp plugin and Calico):
//
//   - The cluster pod CIDR (default 10.244.0.0/16) is split into one block per
//     node; every pod IP is allocated before the pod starts.
//   - Each pod gets a named network namespace, bind-mounted at
//     /run/netns/<prefix><podID> exactly as `ip netns add` does, so that runc
//     and `ip netns exec` can join it by path.
//   - A veth pair joins the pod to its node: inside the pod it is eth0 holding
//     the pod IP as a /32, with a link-scope route to the fixed gateway
//     169.254.1.1 and a default route via it. The gateway's neighbour entry is
//     pinned to the node-side veth's MAC, so the pod never depends on proxy ARP
//     (a lab node namespace has no default route for proxy ARP to work from);
//     proxy_arp is still enabled on the node side for pods that flush their
//     neighbour table.
//   - On the node, the node-side veth (shv + 10 hex digits of a hash of the pod
//     namespace name) carries no address; the node routes <podIP>/32 to it and
//     every peer node's block via that peer's address, on-link over the uplink
//     that reaches the peer. Nodes must therefore share a link (as with
//     flannel host-gw); there is no encapsulation and no NAT between pods.
//   - Routes netplane owns carry private route protocol numbers
//     (ProtoPeer, ProtoPod), so SyncPeerRoutes can converge the peer set
//     without touching routes anyone else made.
//   - rp_filter is set to loose (2) on every interface netplane creates: the
//     kernel uses max(all, iface), so loose wins even when "all" is strict.
//
// netplane acts in the node namespace given in Config (the host namespace on a
// real machine, a per-node namespace in the lab). It uses netlink handles
// bound to a namespace wherever it can, and enters a namespace on a locked OS
// thread only to create one or to write its /proc/sys.
package netplane
