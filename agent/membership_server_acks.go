package agent

import (
	"time"

	"github.com/hashicorp/memberlist"
)

// membership is memberlist's PingDelegate: gossip probes a member each
// probe interval, and a server's direct ack to one of this agent's probes
// is a round trip to the fleet, the same evidence of contact as the fence
// loop's own ping of a server (pingServer). A client whose probes reached
// a server lately skips that ping (agent/node/fence_ping.go). memberlist
// calls NotifyPingComplete only for a direct ack, never for one relayed
// by another member's indirect probe, and not for the acks to pingServer.

// AckPayload adds nothing to this agent's acks.
func (m *membership) AckPayload() []byte { return nil }

// NotifyPingComplete records, for a server, when the probe it acked was
// sent.
func (m *membership) NotifyPingComplete(other *memberlist.Node, rtt time.Duration, _ []byte) {
	sent := time.Now().Add(-rtt)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.metas[other.Name].Server && sent.After(m.serverAcked) {
		m.serverAcked = sent
	}
}

// serverAnswered is when a server's ack last answered one of gossip's
// probes (zero: none yet).
func (m *membership) serverAnswered() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.serverAcked
}
