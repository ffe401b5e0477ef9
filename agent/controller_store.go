package agent

import "github.com/shoal-dev/shoal/api"

// controllerStore is the part of the state that holds RCs and ReplicaSets.
type controllerStore interface {
	Controller(kind, namespace, name string) (api.Replicated, error)
	Controllers(kind string, filter func(api.Replicated) bool) ([]api.Replicated, uint64)
}

// controllerState returns the local state's RCs and ReplicaSets, nil on an
// agent without a Raft seat.
func (a *Agent) controllerState() controllerStore {
	cs, _ := a.fsm().(controllerStore)
	return cs
}
