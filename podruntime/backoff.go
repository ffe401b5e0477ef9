package podruntime

import (
	"strings"
	"sync"
	"time"
)

// backoff spaces out restarts of a crashing container: the first restart is
// immediate, then 10s, 20s, 40s ... up to a cap. It lives in memory: after an
// agent restart a crashing container gets one quick retry, then backs off again.
type backoff struct {
	initial, max time.Duration

	mu      sync.Mutex
	entries map[string]backoffEntry
}

type backoffEntry struct {
	delay time.Duration // the wait imposed after the last restart
	next  time.Time     // no restart before this
}

func newBackoff(initial, max time.Duration) *backoff {
	return &backoff{initial: initial, max: max, entries: map[string]backoffEntry{}}
}

// wait returns how long key must still wait before it may restart.
func (b *backoff) wait(key string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok || !now.Before(e.next) {
		return 0
	}
	return e.next.Sub(now)
}

// restarted records a restart at now and lengthens the next wait.
func (b *backoff) restarted(key string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[key]
	switch {
	case e.delay == 0:
		e.delay = b.initial
	case e.delay*2 > b.max:
		e.delay = b.max
	default:
		e.delay *= 2
	}
	e.next = now.Add(e.delay)
	b.entries[key] = e
}

// forget resets key, e.g. after it ran long enough to count as healthy or
// when its container is replaced.
func (b *backoff) forget(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.entries, key)
}

// forgetPrefix resets every key that starts with prefix (a removed pod's).
func (b *backoff) forgetPrefix(prefix string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.entries {
		if strings.HasPrefix(k, prefix) {
			delete(b.entries, k)
		}
	}
}
