package agent

import (
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/memberlist"
)

// peersFileName holds, in the agent's data directory, the gossip
// addresses of the members it has seen, one a line: a restarted agent
// joins through them as well as through --join, as serf's snapshot lets
// Consul and Nomad rejoin. Without it, an agent that started the fleet
// (no --join) and was restarted stayed alone in gossip once the others
// had stopped gossiping to it as dead.
const peersFileName = "gossip-peers"

// rememberPeer records n's gossip address; the file is rewritten only
// when the set changes. The caller holds m.mu.
func (m *membership) rememberPeer(n *memberlist.Node) {
	if m.peersFile == "" || n.Name == m.self {
		return
	}
	addr := net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
	if m.peers[n.Name] == addr {
		return
	}
	m.peers[n.Name] = addr
	lines := make([]string, 0, len(m.peers))
	for _, a := range m.peers {
		lines = append(lines, a)
	}
	sort.Strings(lines)
	tmp := m.peersFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		m.log.Debug("remember gossip peers", "err", err)
		return
	}
	if err := os.Rename(tmp, m.peersFile); err != nil {
		m.log.Debug("remember gossip peers", "err", err)
	}
}

// rememberedPeers are the gossip addresses an earlier run of the agent in
// dataDir saw.
func rememberedPeers(dataDir string) []string {
	if dataDir == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dataDir, peersFileName))
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

// joinAddrs is --join and then the peers remembered, each once.
func joinAddrs(join, remembered []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range append(append([]string(nil), join...), remembered...) {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}
