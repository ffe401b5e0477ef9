// Package placement chooses a node for a whole pod, or explains per node why
// none fits. It is pure: no I/O, no clock, no goroutines, so the leader's
// placement loop and the Raft state machine's commit-time re-check use the
// very same functions and agree.
package placement
