// Package consensus owns shoal's replicated cluster state: the Raft node
// (hashicorp/raft; OpenOnDisk gives it raft-wal as log and stable store,
// file snapshots and a TCP transport, Open takes any stores, and
// NewTestCluster runs whole clusters on the in-memory twins) and the
// deterministic state machine over nodes, pods and their bindings. It is
// the only package that imports hashicorp/raft: callers decide from typed
// answers (CaughtUp, Barrier, VerifyLeader, LastContact), never Stats().
//
// Every change of cluster state is a Command in the Raft log. The state
// machine's Apply uses no clock, randomness or I/O: times, UIDs and chosen
// values (node, pod IP) travel inside the command. The leader decides
// optimistically; Apply has the last word and re-checks each binding with
// placement.Fits, rejecting (and changing nothing) when it no longer holds.
// Every object's metadata.resourceVersion is the Raft index that last
// changed it, and the state's index is what blocking readers follow.
package consensus
