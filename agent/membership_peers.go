package agent

import (
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// peersFileName holds, in the agent's data directory, the gossip
// addresses of the members it has seen, one a line: a restarted agent
// joins through them as well as through --join, as serf's snapshot lets
// Consul and Nomad rejoin. Without it, an agent that started the fleet
// (no --join) and was restarted stayed alone in gossip once the others
// had stopped gossiping to it as dead.
const peersFileName = "gossip-peers"

// rememberPeer records n's gossip address; the file is rewritten, once
// for however many members came meanwhile, peersWriteDelay after the set
// changed. The caller holds m.mu. Written on every change, a fleet of n
// agents starting together had each agent write the file n times over,
// n lines each, inside memberlist's handler: 9% of a 300-node sim's CPU,
// and n^2 per agent (docs/scale.md).
func (m *membership) rememberPeer(n *memberlist.Node) {
	if m.peersFile == "" || n.Name == m.self {
		return
	}
	addr := net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
	if m.peers[n.Name] == addr {
		return
	}
	m.peers[n.Name] = addr
	if !m.peersDue {
		m.peersDue = true
		time.AfterFunc(peersWriteDelay, m.writePeers)
	}
}

// peersWriteDelay gathers a join storm's members into one write.
const peersWriteDelay = 500 * time.Millisecond

// stopRemembering writes a change still due now and no more after it,
// so a stopped agent leaves no write behind in its data directory.
func (m *membership) stopRemembering() {
	m.mu.Lock()
	due := m.peersDue
	m.mu.Unlock()
	if due {
		m.writePeers()
	}
	m.peersWriting.Lock()
	m.mu.Lock()
	m.peersFile = ""
	m.mu.Unlock()
	m.peersWriting.Unlock()
}

// writePeers writes the peers remembered so far.
func (m *membership) writePeers() {
	m.peersWriting.Lock() // one write at a time, the newest last
	defer m.peersWriting.Unlock()
	m.mu.Lock()
	m.peersDue = false
	file := m.peersFile
	if file == "" { // stopped
		m.mu.Unlock()
		return
	}
	lines := make([]string, 0, len(m.peers))
	for _, a := range m.peers {
		lines = append(lines, a)
	}
	m.mu.Unlock()
	sort.Strings(lines)
	m.peersWrites++
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		m.log.Debug("remember gossip peers", "err", err)
		return
	}
	if err := os.Rename(tmp, file); err != nil {
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
