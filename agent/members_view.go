package agent

import (
	"sync"

	"github.com/shoal-dev/shoal/agent/apiserver"
)

// membersView is the fleet as the API reads it, built once per gossip
// change rather than on every request. The API looks up the leader's or
// a server's address on every write it forwards, and the node's status
// reports, assignments queries and pod creates all go through an agent's
// API: copying and sorting every member (with its labels) for each of
// them was work that grew with the fleet times the requests, on every
// agent (docs/scale.md).
type membersView struct {
	mu    sync.Mutex
	as    <-chan struct{} // the change channel the view was built under
	built bool
	view  []apiserver.Member
}

// get is the members as m lists them now. The slice is shared by every
// caller until the next change: read it, do not change it.
func (v *membersView) get(m *membership) []apiserver.Member {
	// The channel is taken before the members are read: a change that
	// lands after the read closes it, and the next get rebuilds.
	ch := m.changes()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.built && v.as == ch {
		return v.view
	}
	ms := m.members()
	out := make([]apiserver.Member, len(ms))
	for i, x := range ms {
		out[i] = apiserver.Member{Name: x.Name, Addr: x.Addr, API: x.Meta.API, Server: x.Meta.Server, Alive: x.Alive}
	}
	v.as, v.view, v.built = ch, out, true
	return out
}
