package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	kresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/podruntime"
)

// metrics.k8s.io (kubectl top pod|node) from the agents themselves: a
// server lists the pods from its state, asks every node for the cgroup
// counters of the pods it runs (POST /shoal/v1/usage, served by the node
// from podruntime.Usage) and answers PodMetrics and NodeMetrics as
// metrics-server does. A node's CPU rate is the difference of two readings
// of the same counters: the previous request's, or a second reading a
// second later. A node's usage is the sum of its pods'; a node that does
// not answer is left out, as metrics-server leaves out what it cannot
// scrape.

const metricsBase = "/apis/metrics.k8s.io/v1beta1"

// usageWindow is how far apart two readings must be for a CPU rate, and
// how old the previous one may be.
const (
	usageMinWindow = 500 * time.Millisecond
	usageMaxAge    = 2 * time.Minute
)

func (m *kubeMux) metricsRoutes() {
	m.HandleFunc("GET "+metricsBase+"/pods", m.srv.viaServer(m.srv.podMetrics))
	m.HandleFunc("GET "+metricsBase+"/namespaces/{ns}/pods", m.srv.viaServer(m.srv.podMetrics))
	m.HandleFunc("GET "+metricsBase+"/namespaces/{ns}/pods/{name}", m.srv.viaServer(m.srv.podMetrics))
	m.HandleFunc("GET "+metricsBase+"/nodes", m.srv.viaServer(m.srv.nodeMetrics))
	m.HandleFunc("GET "+metricsBase+"/nodes/{name}", m.srv.viaServer(m.srv.nodeMetrics))
}

// usageAsk is one pod a server asks its node about.
type usageAsk struct {
	UID        string   `json:"uid"`
	Namespace  string   `json:"namespace"`
	Name       string   `json:"name"`
	Containers []string `json:"containers"`
}

// podUsage is a node's answer for one pod.
type podUsage struct {
	Namespace  string           `json:"namespace"`
	Name       string           `json:"name"`
	Time       time.Time        `json:"time"`
	Window     time.Duration    `json:"window"`
	Containers []containerUsage `json:"containers"`
}

type containerUsage struct {
	Name     string `json:"name"`
	NanoCPU  int64  `json:"nanoCPU"` // CPU used per second, in billionths of a core
	MemBytes int64  `json:"memBytes"`
}

// usageSampler keeps each container's last reading on its node, so that a
// request soon after another needs one reading only.
type usageSampler struct {
	mu   sync.Mutex
	last map[string]podruntime.ContainerUsage // podUID/container
}

// nodeUsage serves POST /shoal/v1/usage on a node: the usage of the pods
// asked about, as far as they run here.
func (srv *Server) nodeUsage(w http.ResponseWriter, r *http.Request) {
	var asks []usageAsk
	body, err := readBody(r)
	if err == nil {
		err = json.Unmarshal(body, &asks)
	}
	if err != nil {
		writeError(w, srv.log, invalid(fmt.Errorf("decode usage request: %w", err)))
		return
	}
	rt := srv.runtime()
	if rt == nil {
		writeError(w, srv.log, errNoRuntime)
		return
	}
	out, err := srv.usage.measure(r.Context(), rt, asks)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *usageSampler) measure(ctx context.Context, rt PodRuntime, asks []usageAsk) ([]podUsage, error) {
	read := func() (map[string]podruntime.ContainerUsage, error) {
		now := map[string]podruntime.ContainerUsage{}
		for _, a := range asks {
			us, err := rt.Usage(ctx, a.UID, a.Containers)
			if err != nil {
				return nil, err
			}
			for _, u := range us {
				now[a.UID+"/"+u.Name] = u
			}
		}
		return now, nil
	}
	now, err := read()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	prev := s.last
	s.mu.Unlock()
	usable := func(before, after podruntime.ContainerUsage) bool {
		age := after.Time.Sub(before.Time)
		return age >= usageMinWindow && age <= usageMaxAge && after.CPU >= before.CPU
	}
	missing := false
	for k, u := range now {
		if p, ok := prev[k]; !ok || !usable(p, u) {
			missing = true
		}
	}
	if missing {
		// No recent reading to compare with: take a second one.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(usageMinWindow):
		}
		prev = now
		if now, err = read(); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	if s.last == nil {
		s.last = map[string]podruntime.ContainerUsage{}
	}
	for k, u := range now {
		if p, ok := s.last[k]; !ok || now[k].Time.Sub(p.Time) >= usageMinWindow {
			s.last[k] = u
		}
	}
	s.mu.Unlock()

	var out []podUsage
	for _, a := range asks {
		pu := podUsage{Namespace: a.Namespace, Name: a.Name}
		for _, c := range a.Containers {
			u, ok := now[a.UID+"/"+c]
			p, okp := prev[a.UID+"/"+c]
			if !ok || !okp || !usable(p, u) {
				continue
			}
			window := u.Time.Sub(p.Time)
			pu.Time, pu.Window = u.Time, window
			pu.Containers = append(pu.Containers, containerUsage{Name: c,
				NanoCPU: int64(float64(u.CPU-p.CPU) / window.Seconds()), MemBytes: u.WorkingSet})
		}
		if len(pu.Containers) > 0 {
			out = append(out, pu)
		}
	}
	return out, nil
}

// gatherUsage asks every node about its running pods that keep answers.
func (srv *Server) gatherUsage(r *http.Request, keep func(*api.Pod) bool) map[string][]podUsage {
	pods, _ := srv.fsm().Pods(func(p *api.Pod) bool {
		return p.Spec.NodeName != "" && p.Status.Phase == api.PodRunning && keep(p)
	})
	byNode := map[string][]usageAsk{}
	for _, p := range pods {
		a := usageAsk{UID: string(p.UID), Namespace: p.Namespace, Name: p.Name}
		for _, c := range p.Spec.Containers {
			a.Containers = append(a.Containers, c.Name)
		}
		byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], a)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string][]podUsage{}
	for node, asks := range byNode {
		wg.Add(1)
		go func() {
			defer wg.Done()
			us, err := srv.askUsage(r, node, asks)
			if err != nil {
				srv.log.Debug("pod usage", "node", node, "err", err)
				return
			}
			mu.Lock()
			out[node] = us
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func (srv *Server) askUsage(r *http.Request, node string, asks []usageAsk) ([]podUsage, error) {
	body, err := json.Marshal(asks)
	if err != nil {
		return nil, err
	}
	target := srv.memberAPI(node)
	if node == srv.cfg.Name {
		target = ""
	}
	if target == "" && node != srv.cfg.Name {
		return nil, fmt.Errorf("node %s cannot be reached", node)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	if target == "" {
		rt := srv.runtime()
		if rt == nil {
			return nil, errNoRuntime
		}
		return srv.usage.measure(ctx, rt, asks)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+target+"/shoal/v1/usage", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if a := r.Header.Get("Authorization"); a != "" {
		req.Header.Set("Authorization", a)
	}
	tr := srv.transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("usage from node %s: HTTP %d", node, resp.StatusCode)
	}
	var out []podUsage
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("usage from node %s: %w", node, err)
	}
	return out, nil
}

func (srv *Server) podMetrics(w http.ResponseWriter, r *http.Request) {
	sel, err := selector(r)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	ns, name := r.PathValue("ns"), r.PathValue("name")
	byNode := srv.gatherUsage(r, func(p *api.Pod) bool {
		return (ns == "" || p.Namespace == ns) && (name == "" || p.Name == name) && sel.Matches(labels.Set(p.Labels))
	})
	list := metricsv1beta1.PodMetricsList{}
	list.APIVersion, list.Kind = "metrics.k8s.io/v1beta1", "PodMetricsList"
	list.ResourceVersion = strconv.FormatUint(srv.fsm().Index(), 10)
	for _, us := range byNode {
		for _, u := range us {
			pm := metricsv1beta1.PodMetrics{ObjectMeta: api.ObjectMeta{Namespace: u.Namespace, Name: u.Name, CreationTimestamp: api.TimeOf(u.Time)},
				Timestamp: api.TimeOf(u.Time.Add(-u.Window)), Window: metav1.Duration{Duration: u.Window}}
			pm.APIVersion, pm.Kind = "metrics.k8s.io/v1beta1", "PodMetrics"
			for _, c := range u.Containers {
				pm.Containers = append(pm.Containers, metricsv1beta1.ContainerMetrics{Name: c.Name, Usage: usageList(c.NanoCPU, c.MemBytes)})
			}
			list.Items = append(list.Items, pm)
		}
	}
	sort.Slice(list.Items, func(i, j int) bool {
		a, b := list.Items[i], list.Items[j]
		return a.Namespace < b.Namespace || a.Namespace == b.Namespace && a.Name < b.Name
	})
	if name != "" {
		if len(list.Items) == 0 {
			writeError(w, srv.log, &badRequest{reason: "NotFound", code: http.StatusNotFound,
				err: fmt.Errorf("podmetrics.metrics.k8s.io %q not found", name)})
			return
		}
		writeJSON(w, http.StatusOK, list.Items[0])
		return
	}
	if list.Items == nil {
		list.Items = []metricsv1beta1.PodMetrics{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (srv *Server) nodeMetrics(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	byNode := srv.gatherUsage(r, func(p *api.Pod) bool { return name == "" || p.Spec.NodeName == name })
	nodes, idx := srv.fsm().Nodes()
	list := metricsv1beta1.NodeMetricsList{}
	list.APIVersion, list.Kind = "metrics.k8s.io/v1beta1", "NodeMetricsList"
	list.ResourceVersion = strconv.FormatUint(idx, 10)
	for _, n := range nodes {
		if name != "" && n.Name != name {
			continue
		}
		us, ok := byNode[n.Name]
		if !ok && !nodeReady(n) {
			continue
		}
		var cpu, mem int64
		var at time.Time
		var window time.Duration
		for _, u := range us {
			for _, c := range u.Containers {
				cpu, mem = cpu+c.NanoCPU, mem+c.MemBytes
			}
			at, window = u.Time, u.Window
		}
		if at.IsZero() {
			at, window = time.Now(), usageMinWindow
		}
		nm := metricsv1beta1.NodeMetrics{ObjectMeta: api.ObjectMeta{Name: n.Name, Labels: n.Labels, CreationTimestamp: api.TimeOf(at)},
			Timestamp: api.TimeOf(at.Add(-window)), Window: metav1.Duration{Duration: window}, Usage: usageList(cpu, mem)}
		nm.APIVersion, nm.Kind = "metrics.k8s.io/v1beta1", "NodeMetrics"
		list.Items = append(list.Items, nm)
	}
	if name != "" {
		if len(list.Items) == 0 {
			writeError(w, srv.log, &badRequest{reason: "NotFound", code: http.StatusNotFound,
				err: fmt.Errorf("nodemetrics.metrics.k8s.io %q not found", name)})
			return
		}
		writeJSON(w, http.StatusOK, list.Items[0])
		return
	}
	if list.Items == nil {
		list.Items = []metricsv1beta1.NodeMetrics{}
	}
	writeJSON(w, http.StatusOK, list)
}

func nodeReady(n *api.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == api.ConditionTrue
		}
	}
	return false
}

func usageList(nanoCPU, memBytes int64) api.ResourceList {
	return api.ResourceList{
		api.ResourceCPU:    *kresource.NewScaledQuantity(nanoCPU, kresource.Nano),
		api.ResourceMemory: *kresource.NewQuantity(memBytes, kresource.BinarySI),
	}
}
