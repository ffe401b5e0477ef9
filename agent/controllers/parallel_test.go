package controllers

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sideBySide calls fn once for every index, really at the same time (up to
// the limit: every call here waits until limit calls have begun, which a
// one-by-one loop never reaches), and never more than limit at once.
func TestSideBySideRunsUpToLimitAtOnce(t *testing.T) {
	const n, limit = 20, 4
	var (
		mu      sync.Mutex
		seen    = map[int]int{}
		running atomic.Int32
		most    atomic.Int32
		begun   atomic.Int32
		full    = make(chan struct{})
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sideBySide(n, limit, func(i int) {
			now := running.Add(1)
			defer running.Add(-1)
			for {
				m := most.Load()
				if now <= m || most.CompareAndSwap(m, now) {
					break
				}
			}
			if begun.Add(1) == limit {
				close(full)
			}
			if i < limit {
				<-full // the first batch waits for each other
			}
			mu.Lock()
			seen[i]++
			mu.Unlock()
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("sideBySide never returned: %d calls began, the first %d never ran together", begun.Load(), limit)
	}
	if len(seen) != n {
		t.Fatalf("called for %d indexes, want %d", len(seen), n)
	}
	for i, c := range seen {
		if c != 1 {
			t.Errorf("index %d called %d times", i, c)
		}
	}
	if m := most.Load(); m > limit {
		t.Errorf("%d calls at once, limit %d", m, limit)
	}
}

func TestSideBySideWithNothingToDo(t *testing.T) {
	sideBySide(0, leaderWrites, func(int) { t.Error("called with n = 0") })
}
