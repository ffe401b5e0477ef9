package agent

import (
	"log/slog"

	"github.com/hashicorp/memberlist"
)

// gossipTransportFor gives a real agent's gossip the transport the sim's
// agents run on (copyingTransport, gossip_transport.go) unless mc already
// has one. memberlist's own NetTransport reads every UDP packet into a
// fresh 64 KiB buffer: in an idle 5-node fleet, where every agent
// receives some 15 packets a second (probes, acks, the gossip of
// suspicions and metadata), those buffers were half of every agent's
// allocations and so drove most of its garbage collections, and an idle
// client spent a sixth of its CPU in the collector (docs/performance.md).
// The copy that transport hands memberlist is the packet's own size, a
// few hundred bytes. What memberlist sees is the same: the same packets,
// timestamps and streams, on the same address and port.
func gossipTransportFor(mc *memberlist.Config, log *slog.Logger) error {
	if mc.Transport != nil {
		return nil
	}
	if mc.BindAddr == "" {
		mc.BindAddr = "0.0.0.0" // what memberlist's own transport listens on then
	}
	return copyingTransportFor(mc, log)
}
