package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/netplane"
	"github.com/shoal-dev/shoal/podruntime"
)

// nodeRunner makes this node run exactly what the state binds to it:
// pod network namespaces through netplane, containers through podruntime,
// and reports each pod's status back through the leader.
type nodeRunner struct {
	a        *Agent
	plane    *netplane.Plane
	runtime  *podruntime.Runtime
	http     *http.Client
	mu       sync.Mutex
	reported map[string]api.PodStatus // by pod UID: the last status the leader accepted
}

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

// runNode connects to containerd (retrying: it may start after us), then
// follows the node's assignments until ctx is done.
func (a *Agent) runNode(ctx context.Context) {
	plane, err := netplane.New(netplane.Config{NetnsPrefix: a.cfg.NetnsPrefix}, a.log.With("part", "netplane"))
	if err != nil {
		a.log.Error("pod network unavailable; this node runs no pods", "err", err)
		return
	}
	defer plane.Close()
	if err := plane.EnsureNode(ctx); err != nil {
		a.log.Error("prepare the node for pod routing", "err", err)
	}
	var rt *podruntime.Runtime
	for delay := 200 * time.Millisecond; ; {
		// containerd's client dials for seconds before it gives up on a
		// socket that is not there; look first so the agent stays responsive.
		if _, err = os.Stat(a.cfg.ContainerdAddress); err == nil {
			rt, err = podruntime.New(ctx, podruntime.Config{
				Address: a.cfg.ContainerdAddress, Namespace: a.cfg.ContainerdNamespace,
				StateDir: a.dataPath("pods"), Log: a.log.With("part", "podruntime"),
				Events:      eventRecorders{podEventRecorder{a}, a.events}, // agent/metrics.go, agent/events.go
				Registries:  a.cfg.registries(),
				Credentials: pullSecrets{a}, // agent/pull_secrets.go
			})
		}
		if err == nil {
			break
		}
		a.log.Warn("containerd not reachable yet", "address", a.cfg.ContainerdAddress, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		if delay < 5*time.Second {
			delay *= 2
		}
	}
	defer rt.Close()
	a.runtime.set(rt)
	go a.imageGC(ctx, rt) // agent/image_gc.go
	n := &nodeRunner{a: a, plane: plane, runtime: rt, http: a.internalClient(time.Minute), reported: map[string]api.PodStatus{}}
	n.follow(ctx)
}

// follow is the reconcile loop: a blocking query on the state wakes it at
// once on any change, and at the latest after ResyncInterval to look at
// containers that exited on their own.
func (n *nodeRunner) follow(ctx context.Context) {
	var after uint64
	var gate passGate // agent/node_pass.go
	for ctx.Err() == nil {
		view, err := n.fetch(ctx, after)
		if err != nil {
			gate.reset()
			if ctx.Err() == nil {
				n.a.log.Debug("read assignments", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			continue
		}
		after = view.Index
		n.a.fence.fetched(view)
		n.a.fence.mu.Lock()
		fenced := n.a.fence.fenced // the pods it stopped must start again
		n.a.fence.mu.Unlock()
		if !n.a.reconcileAllowed(view.Index) {
			gate.reset()
			continue // agent/fencing.go: the view may be stale
		}
		start := time.Now()
		if fenced {
			gate.reset()
		}
		if !gate.need(view, start, n.a.cfg.ResyncInterval) {
			continue
		}
		gate.passed(view, start)
		n.reconcile(ctx, view)
		n.a.metrics.reconciled(time.Since(start))
	}
}

// fetchSlack is how long past the blocking query's wait an answer may
// take. A client's query is forwarded to a server; when that server is cut
// off mid-query no RST comes back, and without this bound the reconciler
// would hang for the HTTP client's whole minute, leaving pods just bound
// here unstarted (found by `shoal lab chaos`).
const fetchSlack = 5 * time.Second

func (n *nodeRunner) fetch(ctx context.Context, after uint64) (*assignmentsView, error) {
	ctx, cancel := context.WithTimeout(ctx, n.a.cfg.ResyncInterval+fetchSlack)
	defer cancel()
	q := url.Values{"index": {fmt.Sprint(after)}, "wait": {n.a.cfg.ResyncInterval.String()}}
	u := "http://" + n.a.self.API + "/shoal/v1/nodes/" + url.PathEscape(n.a.cfg.Name) + "/assignments?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := n.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("assignments: HTTP %d", resp.StatusCode)
	}
	var v assignmentsView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, fmt.Errorf("decode assignments: %w", err)
	}
	return &v, nil
}

func (n *nodeRunner) reconcile(ctx context.Context, view *assignmentsView) {
	n.syncPeers(ctx, view.Nodes)
	reconcilePods(ctx, view.Pods, n.removeUnclaimed, func(ctx context.Context, p *api.Pod) {
		if err := n.syncPod(ctx, p); err != nil && ctx.Err() == nil {
			n.a.log.Warn("sync pod", "pod", api.KeyOf(p), "err", err)
		}
	})
}

// reconcilePods removes what is no longer bound here before it starts
// anything: a pod deleted while this node was away frees its IP in the
// state, and the fleet may have given that IP to a new pod bound here; were
// the new pod wired first, both network namespaces would hold the IP at
// once (found by `shoal lab chaos`, seed 3: a bare pod deleted while its
// node was down, and its IP reused on that node before it came back).
func reconcilePods(ctx context.Context, pods []api.Pod, removeUnclaimed func(ctx context.Context, want, wantNet map[string]bool), syncPod func(context.Context, *api.Pod)) {
	want := map[string]bool{}
	wantNet := map[string]bool{}
	for i := range pods {
		want[string(pods[i].ObjectMeta.UID)] = true
		wantNet[podNetID(string(pods[i].ObjectMeta.UID))] = true
	}
	removeUnclaimed(ctx, want, wantNet)
	var wg sync.WaitGroup
	for i := range pods {
		p := &pods[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			syncPod(ctx, p)
		}()
	}
	wg.Wait()
}

// syncPod brings one pod to its spec and reports its status when it changed.
func (n *nodeRunner) syncPod(ctx context.Context, p *api.Pod) error {
	ip := net.ParseIP(p.Status.PodIP)
	if ip == nil {
		return fmt.Errorf("pod is bound without an IP")
	}
	nsPath, err := n.plane.SetupPod(ctx, podNetID(string(p.ObjectMeta.UID)), ip)
	if err != nil {
		return fmt.Errorf("pod network: %w", err)
	}
	if err := n.runtime.SyncPod(ctx, p, nsPath); err != nil {
		return fmt.Errorf("containers: %w", err)
	}
	st, err := n.runtime.PodStatus(ctx, p)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	st = mergeStatus(p.Status, st)
	n.mu.Lock()
	last, ok := n.reported[string(p.ObjectMeta.UID)]
	n.mu.Unlock()
	if ok && reflect.DeepEqual(last, st) {
		return nil
	}
	if statusEqual(p.Status, st) {
		return nil
	}
	return n.report(ctx, p, st)
}

// mergeStatus keeps what the fleet decided (IPs, scheduling condition,
// start time) and takes what the node observed (phase, containers, readiness).
func mergeStatus(old, seen api.PodStatus) api.PodStatus {
	out := seen
	out.PodIP, out.PodIPs, out.HostIP = old.PodIP, old.PodIPs, old.HostIP
	out.StartTime = old.StartTime
	if out.StartTime == nil && out.Phase != api.PodPending {
		out.StartTime = api.NewTime(time.Now())
	}
	ready := out.Phase == api.PodRunning
	for _, cs := range out.ContainerStatuses {
		ready = ready && cs.Ready
	}
	conds := []api.PodCondition{}
	for _, c := range old.Conditions {
		if c.Type == "PodScheduled" {
			conds = append(conds, c)
		}
	}
	// Initialized is the runtime's word (False while init containers run or
	// fail); an observation without it comes from a pod with nothing to init.
	initialized := api.PodCondition{Type: "Initialized", Status: "True"}
	for _, c := range seen.Conditions {
		if c.Type == "Initialized" {
			initialized = api.PodCondition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message}
		}
	}
	ready = ready && initialized.Status == "True"
	for _, typ := range []api.PodConditionType{"Initialized", "ContainersReady", "Ready"} {
		c := api.PodCondition{Type: typ, Status: "True"}
		if typ == "Initialized" {
			c = initialized
		} else if !ready {
			c.Status = "False"
		}
		status := c.Status
		for _, o := range old.Conditions {
			if o.Type == typ && o.Status == status {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
		if c.LastTransitionTime.IsZero() {
			c.LastTransitionTime = api.TimeOf(time.Now())
		}
		conds = append(conds, c)
	}
	out.Conditions = conds
	return out
}

// statusEqual ignores transition times, which a node re-stamps.
func statusEqual(a, b api.PodStatus) bool {
	strip := func(s api.PodStatus) api.PodStatus {
		c := s
		c.Conditions = nil
		for _, cond := range s.Conditions {
			cond.LastTransitionTime = api.Time{}
			c.Conditions = append(c.Conditions, cond)
		}
		return c
	}
	ja, _ := json.Marshal(strip(a))
	jb, _ := json.Marshal(strip(b))
	return string(ja) == string(jb)
}

func (n *nodeRunner) report(ctx context.Context, p *api.Pod, st api.PodStatus) error {
	body := api.Pod{ObjectMeta: api.ObjectMeta{Name: p.ObjectMeta.Name, Namespace: p.ObjectMeta.Namespace, UID: p.ObjectMeta.UID}, Spec: api.PodSpec{NodeName: n.a.cfg.Name}, Status: st}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	u := "http://" + n.a.self.API + "/api/v1/namespaces/" + url.PathEscape(p.ObjectMeta.Namespace) + "/pods/" + url.PathEscape(p.ObjectMeta.Name) + "/status"
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, strings.NewReader(string(b)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.http.Do(req)
	if err != nil {
		return fmt.Errorf("report status: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("report status: HTTP %d", resp.StatusCode)
	}
	n.mu.Lock()
	n.reported[string(p.ObjectMeta.UID)] = st
	n.mu.Unlock()
	return nil
}

// removeUnclaimed stops pods and networks the state no longer binds here:
// deleted pods, and pods of this node that the fleet moved elsewhere.
func (n *nodeRunner) removeUnclaimed(ctx context.Context, want, wantNet map[string]bool) {
	uids, err := n.runtime.ListPods(ctx)
	if err != nil {
		n.a.log.Warn("list local pods", "err", err)
	}
	// Side by side: each removal may wait out its containers' stop grace,
	// and pods bound here meanwhile wait for all of them.
	var wg sync.WaitGroup
	for _, uid := range uids {
		if want[uid] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.a.log.Info("removing pod no longer bound here", "uid", uid)
			if err := n.runtime.RemovePod(ctx, uid); err != nil {
				n.a.log.Warn("remove pod", "uid", uid, "err", err)
			}
			n.mu.Lock()
			delete(n.reported, uid)
			n.mu.Unlock()
		}()
	}
	wg.Wait()
	ids, err := n.plane.ListPods(ctx)
	if err != nil {
		n.a.log.Warn("list pod networks", "err", err)
	}
	for _, id := range ids {
		if wantNet[id] {
			continue
		}
		if err := n.plane.TeardownPod(ctx, id); err != nil {
			n.a.log.Warn("remove pod network", "id", id, "err", err)
		}
	}
}

// syncPeers routes every other node's pod block via that node's address.
func (n *nodeRunner) syncPeers(ctx context.Context, nodes []api.Node) {
	var peers []netplane.Peer
	for _, node := range nodes {
		if node.ObjectMeta.Name == n.a.cfg.Name || node.Spec.PodCIDR == "" {
			continue
		}
		_, block, err := net.ParseCIDR(node.Spec.PodCIDR)
		if err != nil {
			continue
		}
		var via net.IP
		for _, addr := range node.Status.Addresses {
			if addr.Type == "InternalIP" {
				via = net.ParseIP(addr.Address)
			}
		}
		if via == nil {
			continue
		}
		peers = append(peers, netplane.Peer{Block: block, Via: via})
	}
	if err := n.plane.SyncPeerRoutes(ctx, peers); err != nil {
		n.a.log.Warn("peer routes", "err", err)
	}
}

// podNetID names a pod's network namespace: short, unique, stable.
func podNetID(uid string) string {
	id := strings.ReplaceAll(uid, "-", "")
	if len(id) > 16 {
		id = id[:16]
	}
	return id
}
