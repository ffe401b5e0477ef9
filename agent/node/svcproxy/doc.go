// Package svcproxy is the node side of Services: it programs one nftables
// table that shoal owns (ip shoal-svc by default) in a node's network
// namespace so that a Service's virtual IP (and its NodePorts on the node's
// own addresses) DNAT to one ready endpoint chosen at random, with equal
// weight.
//
// The shape follows kube-proxy's nftables mode: verdict maps from
// ClusterIP . protocol . port (and protocol . nodePort) to a chain per
// service port, a numgen vmap in that chain to a chain per endpoint, and a
// dnat in the endpoint chain. There is no masquerade or SNAT anywhere: a
// server sees the calling pod's own IP, which works because the DNAT happens
// on the client's node and the reply routes back through it. A service port
// with no ready endpoints rejects new connections instead of black-holing
// them.
//
// Every change is one nftables transaction: packets see either the old rules
// or the new ones, never a half-written table.
package svcproxy
