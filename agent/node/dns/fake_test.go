package dns

import (
	"net/netip"
	"sync"
)

// fakeLookup is the in-memory Lookup; the agent's state cache is its real
// twin once wired.
type fakeLookup struct {
	mu   sync.RWMutex
	svcs map[string]Service
	pods map[string]bool
}

func newFakeLookup() *fakeLookup {
	return &fakeLookup{svcs: map[string]Service{}, pods: map[string]bool{}}
}

func (f *fakeLookup) Service(namespace, name string) (Service, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s, ok := f.svcs[namespace+"/"+name]
	return s, ok
}

func (f *fakeLookup) PodIP(namespace string, ip netip.Addr) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.pods[namespace+"/"+ip.String()]
}

func (f *fakeLookup) setService(namespace, name string, s Service) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.svcs[namespace+"/"+name] = s
}

func (f *fakeLookup) deleteService(namespace, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.svcs, namespace+"/"+name)
}

func (f *fakeLookup) addPod(namespace, ip string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pods[namespace+"/"+ip] = true
}
