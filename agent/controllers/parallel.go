package controllers

import "sync"

// leaderWrites bounds the Raft applies one leader loop keeps in flight at
// once. hashicorp/raft commits the applies waiting on it in one batch (one
// log append and one round to the followers), so n writes side by side
// cost about what one does, where n in a row cost n rounds: the
// replacements of a lost node's replicas, and the deletes of the lost
// ones, were each a round behind the previous (about a second for a dozen
// on a busy 20-node lab). consensus/raft_bench_test.go measures Raft with
// 32 writers.
const leaderWrites = 32

// sideBySide calls fn(i) for every i in [0, n), at most limit at a time,
// and returns when all have returned.
func sideBySide(n, limit int, fn func(i int)) {
	if limit < 1 {
		limit = 1
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}
