package agent

import (
	"sort"

	"github.com/hashicorp/memberlist"
)

// serverChanged marks the server list stale when the named member is or
// was a server. record calls it before and after it changes the member,
// so a member that stops or starts being a server is seen either way;
// the joins, updates and departures of clients leave the list as it was.
// The caller holds m.mu.
func (m *membership) serverChanged(name string) {
	if m.metas[name].Server {
		m.serversStale = true
	}
}

// serverList is the live servers other than self, by name, rebuilt only
// when stale. The caller holds m.mu; the slice is shared until the next
// rebuild.
func (m *membership) serverList(self string) []memberlist.Node {
	if m.servers != nil && !m.serversStale {
		return m.servers
	}
	servers := []memberlist.Node{}
	for _, n := range m.nodes {
		if n.Name != self && m.metas[n.Name].Server {
			servers = append(servers, n)
		}
	}
	sort.Slice(servers, func(i, j int) bool { return servers[i].Name < servers[j].Name })
	m.servers, m.serversStale = servers, false
	return servers
}
