package api

// Events are Kubernetes' core/v1 Event (types.go), so `kubectl get events`
// and `kubectl describe` read them. Repeats of the same event are folded
// into one with a count by the state machine.
