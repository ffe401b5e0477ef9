package agent

// leaderName is the node name of the Raft leader, "" when none is known.
func (a *Agent) leaderName() string {
	if !a.isServer() {
		return ""
	}
	id, _ := a.raft().Leader()
	return id
}

// leaderAPI is the API address of the Raft leader, from gossip.
func (a *Agent) leaderAPI() string {
	name := a.leaderName()
	if name == "" {
		return ""
	}
	for _, m := range a.members.members() {
		if m.Name == name && m.Alive {
			return m.Meta.API
		}
	}
	return ""
}
