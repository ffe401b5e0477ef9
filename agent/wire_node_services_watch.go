package agent

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/agent/node"
	"github.com/shoal-dev/shoal/api"
)

// A client node (no Raft seat, no state of its own) follows the fleet's
// Services, EndpointSlices and pods as client-go's informers do: one watch
// per kind through the agent's API, which forwards it to a server that
// streams its state machine's changes (agent/apiserver/kube_watch.go), and
// a cache of what the watches said. One change in the fleet costs one
// event to the watchers of its kind; nothing is listed again but after a
// broken watch the server no longer has the changes for (410 Expired).
// Pod addresses stay in the cache and DNS asks it (node.PodIPSet): a pod
// event costs a map update and wakes nothing, so the cost of a change
// does not grow with the fleet's pods. A Service or EndpointSlice event
// wakes the node's follower, whose view holds Services and slices only.

// watchedServices is node.ServiceSource for a client node.
type watchedServices struct {
	api   nodeAPIClient
	hc    *http.Client // without a timeout: a watch lasts
	retry time.Duration
	log   *slog.Logger
	once  sync.Once

	mu sync.Mutex
	// changed is closed (and replaced) when index moves.
	changed chan struct{}
	// index is the resourceVersion of the last Service or EndpointSlice
	// event (or initial list); views are taken at it.
	index    uint64
	synced   map[string]bool // kinds whose initial events have all come
	services map[string]api.Service
	slices   map[string]api.EndpointSlice
	podIP    map[string]netip.Addr // pod namespace/name -> its IP
	podIPs   map[node.PodAddr]int  // pods with the address (a moment of two during a move)
}

// The kinds a client node watches, by list path.
const (
	watchServices = "/api/v1/services"
	watchSlices   = "/apis/discovery.k8s.io/v1/endpointslices"
	watchPods     = "/api/v1/pods"
)

var watchedKinds = []string{watchServices, watchSlices, watchPods}

func newWatchedServices(c nodeAPIClient, log *slog.Logger) *watchedServices {
	hc := &http.Client{}
	if c.http != nil {
		hc.Transport = c.http.Transport
	}
	return &watchedServices{
		api: c, hc: hc, retry: time.Second, log: log,
		changed: make(chan struct{}), synced: map[string]bool{},
		services: map[string]api.Service{}, slices: map[string]api.EndpointSlice{},
		podIP: map[string]netip.Addr{}, podIPs: map[node.PodAddr]int{},
	}
}

// Services is node.ServiceSource's blocking query over the cache: it
// starts the watches on first use (they last as long as ctx).
func (w *watchedServices) Services(ctx context.Context, after uint64, wait time.Duration) (*node.ServiceView, error) {
	w.once.Do(func() {
		for _, path := range watchedKinds {
			go w.follow(ctx, path)
		}
	})
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		w.mu.Lock()
		ready := len(w.synced) == len(watchedKinds)
		if ready && w.index > after {
			v := w.viewLocked()
			w.mu.Unlock()
			return v, nil
		}
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ch:
		case <-timer.C:
			w.mu.Lock()
			defer w.mu.Unlock()
			if len(w.synced) < len(watchedKinds) {
				return nil, fmt.Errorf("watch the fleet's services: %d of %d kinds listed after %s", len(w.synced), len(watchedKinds), wait)
			}
			return w.viewLocked(), nil
		}
	}
}

// HasPodIP is node.PodIPSet's, from the pod watch.
func (w *watchedServices) HasPodIP(a node.PodAddr) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.podIPs[a] > 0
}

// viewLocked copies the Services and slices, in a stable order.
func (w *watchedServices) viewLocked() *node.ServiceView {
	v := &node.ServiceView{Index: w.index, PodIPs: w,
		Services: make([]api.Service, 0, len(w.services)), Slices: make([]api.EndpointSlice, 0, len(w.slices))}
	for _, s := range w.services {
		v.Services = append(v.Services, s)
	}
	for _, s := range w.slices {
		v.Slices = append(v.Slices, s)
	}
	slices.SortFunc(v.Services, func(a, b api.Service) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	slices.SortFunc(v.Slices, func(a, b api.EndpointSlice) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return v
}

// watchWindow is how long one watch lasts before the next replaces it.
const watchWindow = 30 * time.Second

// errWatchExpired is a watch the server no longer has the changes for.
var errWatchExpired = errors.New("resourceVersion expired")

// follow keeps one kind's watch open until ctx is done: from where the
// last one ended, or from a new list when it expired.
func (w *watchedServices) follow(ctx context.Context, path string) {
	var from uint64 // 0: the current objects first
	for ctx.Err() == nil {
		next, err := w.watch(ctx, path, from)
		from = next
		if err == nil || ctx.Err() != nil {
			continue // the server ended the watch (its timeout): again from there
		}
		if errors.Is(err, errWatchExpired) {
			from = 0
		}
		w.log.Warn("watch for the node's services", "path", path, "from", from, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(w.retry):
		}
	}
}

// watchLine is one event of a watch.
type watchLine struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// watchedObject is what the cache reads of any object (a pod's address).
type watchedObject struct {
	Metadata struct {
		Namespace       string            `json:"namespace"`
		Name            string            `json:"name"`
		ResourceVersion string            `json:"resourceVersion"`
		Annotations     map[string]string `json:"annotations"`
	} `json:"metadata"`
	Status struct {
		PodIP string `json:"podIP"`
	} `json:"status"`
}

// watch runs one watch of path from resourceVersion from (0: the current
// objects, which replace the cache's, then the changes) and returns the
// resourceVersion it got to.
func (w *watchedServices) watch(ctx context.Context, path string, from uint64) (uint64, error) {
	// The server ends the watch after watchWindow and the next one goes
	// on from its resourceVersion; a stream that stops short of that (its
	// server cut off from this node, no RST coming back) ends at the
	// deadline, as the other node queries do (fetchSlack).
	ctx, cancel := context.WithTimeout(ctx, watchWindow+fetchSlack)
	defer cancel()
	q := "?watch=1&allowWatchBookmarks=true&timeoutSeconds=" + strconv.Itoa(int(watchWindow/time.Second))
	if from == 0 {
		q += "&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
	} else {
		q += "&resourceVersion=" + strconv.FormatUint(from, 10)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+w.api.addr+path+q, nil)
	if err != nil {
		return from, err
	}
	resp, err := w.hc.Do(req)
	if err != nil {
		return from, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return from, fmt.Errorf("GET %s: HTTP %d: %s", path, resp.StatusCode, b)
	}
	// During the initial events the kind's objects gather here, and
	// replace the cache's at the bookmark that ends them.
	var initial map[string]json.RawMessage
	if from == 0 {
		initial = map[string]json.RawMessage{}
	}
	// resume is where the next watch starts: a watch that ends before
	// its initial events did starts again from a list.
	resume := func() uint64 {
		if initial != nil {
			return 0
		}
		return from
	}
	dec := json.NewDecoder(resp.Body)
	for {
		var ev watchLine
		if err := dec.Decode(&ev); err != nil {
			if errors.Is(err, io.EOF) {
				return resume(), nil
			}
			return resume(), fmt.Errorf("watch %s: %w", path, err)
		}
		if ev.Type == "ERROR" {
			var st struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(ev.Object, &st); err != nil {
				return resume(), fmt.Errorf("watch %s: ERROR event: %w", path, err)
			}
			if st.Code == http.StatusGone {
				return 0, fmt.Errorf("watch %s from %d: %s: %w", path, from, st.Message, errWatchExpired)
			}
			return resume(), fmt.Errorf("watch %s: HTTP %d: %s", path, st.Code, st.Message)
		}
		var o watchedObject
		if err := json.Unmarshal(ev.Object, &o); err != nil {
			return resume(), fmt.Errorf("watch %s: %s event: %w", path, ev.Type, err)
		}
		rv, err := strconv.ParseUint(o.Metadata.ResourceVersion, 10, 64)
		if err != nil {
			return resume(), fmt.Errorf("watch %s: %s event: resourceVersion %q", path, ev.Type, o.Metadata.ResourceVersion)
		}
		key := o.Metadata.Namespace + "/" + o.Metadata.Name
		switch {
		case ev.Type == "BOOKMARK":
			if initial != nil && o.Metadata.Annotations[initialEventsEndAnnotation] == "true" {
				if err := w.replace(path, initial, rv); err != nil {
					return 0, err
				}
				initial = nil
			}
		case initial != nil && ev.Type == "ADDED":
			initial[key] = ev.Object
		case initial != nil:
			return 0, fmt.Errorf("watch %s: %s event before the initial events ended", path, ev.Type)
		default:
			if err := w.apply(path, ev.Type, key, ev.Object, &o, rv); err != nil {
				return 0, err
			}
		}
		from = max(from, rv)
	}
}

// initialEventsEndAnnotation marks the bookmark that ends a watch-list's
// initial events.
const initialEventsEndAnnotation = "k8s.io/initial-events-end"

// replace makes the cache's objects of path exactly objs, as of rv.
func (w *watchedServices) replace(path string, objs map[string]json.RawMessage, rv uint64) error {
	var (
		svcs   = make(map[string]api.Service, len(objs))
		slices = make(map[string]api.EndpointSlice, len(objs))
		podIP  = make(map[string]netip.Addr, len(objs))
	)
	for key, raw := range objs {
		switch path {
		case watchServices:
			var s api.Service
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("watch %s: %s: %w", path, key, err)
			}
			svcs[key] = s
		case watchSlices:
			var s api.EndpointSlice
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("watch %s: %s: %w", path, key, err)
			}
			slices[key] = s
		case watchPods:
			var o watchedObject
			if err := json.Unmarshal(raw, &o); err != nil {
				return fmt.Errorf("watch %s: %s: %w", path, key, err)
			}
			if ip, err := netip.ParseAddr(o.Status.PodIP); err == nil && ip.Is4() {
				podIP[key] = ip
			}
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.synced[path] = true
	switch path {
	case watchServices:
		w.services = svcs
	case watchSlices:
		w.slices = slices
	case watchPods:
		w.podIP = podIP
		w.podIPs = make(map[node.PodAddr]int, len(podIP))
		for key, ip := range podIP {
			w.podIPs[podAddrOf(key, ip)]++
		}
		return nil // pods wake nothing: DNS reads them here
	}
	w.bumpLocked(rv)
	return nil
}

// apply is one ADDED, MODIFIED or DELETED event after the initial ones.
func (w *watchedServices) apply(path, typ, key string, raw json.RawMessage, o *watchedObject, rv uint64) error {
	deleted := typ == "DELETED"
	if !deleted && typ != "ADDED" && typ != "MODIFIED" {
		return fmt.Errorf("watch %s: unknown event type %q", path, typ)
	}
	var (
		svc api.Service
		es  api.EndpointSlice
	)
	switch {
	case deleted || path == watchPods:
	case path == watchServices:
		if err := json.Unmarshal(raw, &svc); err != nil {
			return fmt.Errorf("watch %s: %s: %w", path, key, err)
		}
	case path == watchSlices:
		if err := json.Unmarshal(raw, &es); err != nil {
			return fmt.Errorf("watch %s: %s: %w", path, key, err)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch path {
	case watchServices:
		if deleted {
			delete(w.services, key)
		} else {
			w.services[key] = svc
		}
	case watchSlices:
		if deleted {
			delete(w.slices, key)
		} else {
			w.slices[key] = es
		}
	case watchPods:
		if old, ok := w.podIP[key]; ok {
			a := podAddrOf(key, old)
			if w.podIPs[a]--; w.podIPs[a] <= 0 {
				delete(w.podIPs, a)
			}
			delete(w.podIP, key)
		}
		if ip, err := netip.ParseAddr(o.Status.PodIP); err == nil && ip.Is4() && !deleted {
			w.podIP[key] = ip
			w.podIPs[podAddrOf(key, ip)]++
		}
		return nil
	}
	w.bumpLocked(rv)
	return nil
}

// bumpLocked moves the view's index to rv and wakes the waiting queries.
func (w *watchedServices) bumpLocked(rv uint64) {
	if rv > w.index {
		w.index = rv
	}
	close(w.changed)
	w.changed = make(chan struct{})
}

// podAddrOf is the PodAddr of the pod at key (namespace/name).
func podAddrOf(key string, ip netip.Addr) node.PodAddr {
	for i := range len(key) {
		if key[i] == '/' {
			return node.PodAddr{Namespace: key[:i], IP: ip}
		}
	}
	return node.PodAddr{IP: ip}
}
