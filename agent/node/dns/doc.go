// Package dns answers DNS for the cluster domain (cluster.local by default)
// on every agent, from the agent's local copy of the state behind the
// Lookup interface, so a node cut off from the leader still resolves what it
// last knew. Record shapes follow the Kubernetes DNS specification
// (kubernetes/dns docs/specification.md): a Service's ClusterIP, or for a
// headless Service its ready endpoints; SRV records for named ports; pod
// records from a dashed IP. Names outside the zone go to the configured
// upstream resolvers, or are REFUSED if there are none. Unknown names inside
// the zone get NXDOMAIN, so a pod's resolver moves on along its search path.
package dns
