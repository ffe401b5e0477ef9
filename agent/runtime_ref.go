package agent

import (
	"sync"

	"github.com/shoal-dev/shoal/podruntime"
)

// runtimeRef holds the node's runtime once containerd answered, for the
// image endpoints that may be called before.
type runtimeRef struct {
	mu sync.RWMutex
	rt *podruntime.Runtime
}

func (r *runtimeRef) get() *podruntime.Runtime {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.rt
}

func (r *runtimeRef) set(rt *podruntime.Runtime) {
	r.mu.Lock()
	r.rt = rt
	r.mu.Unlock()
}
