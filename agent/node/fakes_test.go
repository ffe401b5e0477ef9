package node

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/netplane"
)

// The in-memory twins of node's interfaces; the real ones (the agent's
// API client, podruntime.Runtime, netplane.Plane) run in every e2e test.

// viewQueue answers each query with the next queued view, then blocks
// until the caller gives up, as a blocking query on an idle state does.
type viewQueue struct {
	views chan *Assignments
	taken atomic.Int32 // views answered, to any query
	idle  atomic.Int32 // the most views taken when one of the loop's queries (not a pass's, early.go) began
}

func newViewQueue(views ...*Assignments) *viewQueue {
	q := &viewQueue{views: make(chan *Assignments, len(views))}
	for _, v := range views {
		q.views <- v
	}
	return q
}

// idleAfter reports whether the reader's loop has asked for more after n
// views: it is done with them.
func (q *viewQueue) idleAfter(n int) bool { return int(q.idle.Load()) >= n }

func (q *viewQueue) Assignments(ctx context.Context, after uint64, wait time.Duration) (*Assignments, error) {
	if !duringPass() {
		for {
			t, i := q.taken.Load(), q.idle.Load()
			if t <= i || q.idle.CompareAndSwap(i, t) {
				break
			}
		}
	}
	select {
	case v := <-q.views:
		q.taken.Add(1)
		return v, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// statusLog records every status written, by pod UID.
type statusLog struct {
	mu       sync.Mutex
	written  map[string][]api.PodStatus
	finished []string // pods whose deletion was made final, in order
}

func (s *statusLog) WritePodStatus(ctx context.Context, p *api.Pod, st api.PodStatus) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written == nil {
		s.written = map[string][]api.PodStatus{}
	}
	s.written[string(p.ObjectMeta.UID)] = append(s.written[string(p.ObjectMeta.UID)], st)
	return nil
}

func (s *statusLog) FinishDeletion(ctx context.Context, p *api.Pod) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finished = append(s.finished, string(p.ObjectMeta.UID))
	return nil
}

func (s *statusLog) finishedDeletions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.finished...)
}

func (s *statusLog) of(uid string) []api.PodStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]api.PodStatus(nil), s.written[uid]...)
}

// memRuntime holds pods as a runtime would: each synced pod runs, ready.
type memRuntime struct {
	mu         sync.Mutex
	pods       map[string]string // UID -> the netns path it was synced with
	removed    []string
	killed     []string                 // removed by KillPod, in order
	killedAt   map[string]time.Time     // when KillPod removed each
	terminated []string                 // "UID grace", in order
	holdStops  bool                     // TerminatePod waits for its context to end, as for a long grace
	busy       map[string]chan struct{} // pods a held TerminatePod works on: RemovePod waits, as on podruntime's pod lock
}

func newMemRuntime(uids ...string) *memRuntime {
	r := &memRuntime{pods: map[string]string{}}
	for _, uid := range uids {
		r.pods[uid] = "adopted"
	}
	return r
}

func (r *memRuntime) SyncPod(ctx context.Context, p *api.Pod, netnsPath string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pods[string(p.ObjectMeta.UID)] = netnsPath
	return nil
}

func (r *memRuntime) PodStatus(ctx context.Context, p *api.Pod) (api.PodStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.pods[string(p.ObjectMeta.UID)]; !ok {
		return api.PodStatus{}, fmt.Errorf("pod %s not found", p.ObjectMeta.UID)
	}
	var cs []api.ContainerStatus
	for _, c := range p.Spec.Containers {
		cs = append(cs, api.ContainerStatus{Name: c.Name, Ready: true})
	}
	return api.PodStatus{Phase: api.PodRunning, ContainerStatuses: cs}, nil
}

func (r *memRuntime) ListPods(ctx context.Context) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var uids []string
	for uid := range r.pods {
		uids = append(uids, uid)
	}
	sort.Strings(uids)
	return uids, nil
}

func (r *memRuntime) RemovePod(ctx context.Context, uid string) error {
	r.mu.Lock()
	if ch := r.busy[uid]; ch != nil {
		r.mu.Unlock()
		<-ch
		r.mu.Lock()
	}
	defer r.mu.Unlock()
	delete(r.pods, uid)
	r.removed = append(r.removed, uid)
	return nil
}

func (r *memRuntime) killedPods() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.killed...)
}

// KillPod is RemovePod, recorded apart: fencing must kill, not stop.
func (r *memRuntime) KillPod(ctx context.Context, uid string) error {
	if err := r.RemovePod(ctx, uid); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.killed = append(r.killed, uid)
	if r.killedAt == nil {
		r.killedAt = map[string]time.Time{}
	}
	r.killedAt[uid] = time.Now()
	return nil
}

func (r *memRuntime) TerminatePod(ctx context.Context, p *api.Pod, grace time.Duration) error {
	r.mu.Lock()
	hold := r.holdStops
	r.mu.Unlock()
	if hold {
		ch := make(chan struct{})
		r.mu.Lock()
		if r.busy == nil {
			r.busy = map[string]chan struct{}{}
		}
		r.busy[string(p.ObjectMeta.UID)] = ch
		r.mu.Unlock()
		<-ctx.Done()
		r.mu.Lock()
		delete(r.busy, string(p.ObjectMeta.UID))
		r.mu.Unlock()
		close(ch)
		return ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pods, string(p.ObjectMeta.UID))
	r.terminated = append(r.terminated, fmt.Sprintf("%s %s", p.ObjectMeta.UID, grace))
	return nil
}

func (r *memRuntime) terminations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.terminated...)
}

func (r *memRuntime) state() (pods map[string]string, removed []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pods = map[string]string{}
	for k, v := range r.pods {
		pods[k] = v
	}
	return pods, append([]string(nil), r.removed...)
}

// memNetwork holds pod networks by ID and the peer routes last synced.
type memNetwork struct {
	mu        sync.Mutex
	pods      map[string]net.IP
	peers     []netplane.Peer
	conflicts int // SetupPod calls refused: the IP was held by another pod's network
}

func (n *memNetwork) SetupPod(ctx context.Context, id string, ip net.IP) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for other, held := range n.pods {
		if other != id && held.Equal(ip) {
			n.conflicts++
			return "", fmt.Errorf("IP %s already held by pod network %s", ip, other)
		}
	}
	n.pods[id] = ip
	return "/run/netns/test-" + id, nil
}

func (n *memNetwork) TeardownPod(ctx context.Context, id string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.pods, id)
	return nil
}

func (n *memNetwork) ListPods(ctx context.Context) ([]string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var ids []string
	for id := range n.pods {
		ids = append(ids, id)
	}
	return ids, nil
}

func (n *memNetwork) SyncPeerRoutes(ctx context.Context, peers []netplane.Peer) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.peers = peers
	return nil
}

// passCount counts the reconciler's passes.
type passCount struct {
	mu sync.Mutex
	n  int
}

func (p *passCount) Reconciled(time.Duration) {
	p.mu.Lock()
	p.n++
	p.mu.Unlock()
}

// eventually polls cond until it holds or the deadline passes.
func eventually(deadline time.Duration, cond func() bool) bool {
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

// heldRuntime is memRuntime whose SyncPod of the pods in hold waits until
// release: a container start that takes its time.
type heldRuntime struct {
	*memRuntime
	hold map[string]chan struct{} // by UID; set before Run
}

func (r *heldRuntime) SyncPod(ctx context.Context, p *api.Pod, netnsPath string) error {
	if ch := r.hold[string(p.ObjectMeta.UID)]; ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return r.memRuntime.SyncPod(ctx, p, netnsPath)
}

func (r *heldRuntime) release(uid string) { close(r.hold[uid]) }

func (r *memRuntime) has(uid string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.pods[uid]
	return ok
}

// duringPass tells whether the caller is the watch a pass keeps while it
// runs (early.go's reconcileWatching) rather than the reconcile loop: the
// fakes count only the loop's queries, and tell them apart by call site so
// that nothing in the reconciler marks its queries for the tests' sake.
func duringPass() bool {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		if strings.Contains(f.Function, ".(*Reconciler).reconcileWatching.") {
			return true
		}
		if !more {
			return false
		}
	}
}

// runUntilTestEnds runs each loop (a reconciler's or a fencer's Run) on
// a context it cancels when the test ends, and waits for them all to
// return then; it returns that context.
func runUntilTestEnds(t *testing.T, loops ...func(context.Context)) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, run := range loops {
		wg.Add(1)
		go func() { defer wg.Done(); run(ctx) }()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	return ctx
}
