package agent

import "sync"

// failureSignal tells waiters the API addresses of members gossip declared
// failed. Only a failure can leave a request waiting on an agent that will
// never answer: an agent that departs on purpose answers what it was asked
// before it stops, and the many other membership events (joins, metadata
// updates) need no one woken, which matters in a fleet of a thousand
// agents each waiting on it.
type failureSignal struct {
	mu   sync.Mutex
	ch   chan struct{}
	apis []string // failed since the last take
}

// wait returns a channel closed at the next failure.
func (s *failureSignal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// take returns the API addresses of the members failed since it was last
// called.
func (s *failureSignal) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.apis
	s.apis = nil
	return out
}

func (s *failureSignal) fire(api string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apis = append(s.apis, api)
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// failedAPI is the API address of the member gossip just declared dead,
// and whether it failed rather than departed on purpose (its last
// metadata said it was leaving). Read before record forgets the member's
// metadata.
func (m *membership) failedAPI(name string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	meta, ok := m.metas[name]
	return meta.API, ok && !meta.Leaving && meta.API != ""
}
