package agent

import "sync"

// leaveSignal tells waiters that gossip declared a member failed or that
// one departed. Only those events can leave a request waiting on an agent
// that will never answer; the many other membership events (joins,
// metadata updates) need no one woken, which matters in a fleet of a
// thousand agents each waiting on it.
type leaveSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next leave.
func (s *leaveSignal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *leaveSignal) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}
