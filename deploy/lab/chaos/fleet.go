package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/containerd/containerd"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/namespaces"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/deploy/lab"
)

// Namespace is where the runner's workload lives.
const Namespace = "default"

// Fleet talks to a lab's agents over their HTTP API and looks at what
// really runs on its nodes: containerd tasks and pod network namespaces.
type Fleet struct {
	Lab *lab.Lab
	// read is for short reads that a dead node must not hold up; write
	// waits long, so that an answer we gave up on is rare (it counts as
	// ambiguous).
	read, slow *http.Client
	ctr        *containerd.Client
}

// NewFleet connects to lab l's containerd.
func NewFleet(l *lab.Lab) (*Fleet, error) {
	c, err := containerd.New(l.Containerd, containerd.WithTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("connect containerd %s of lab %s: %w", l.Containerd, l.Name, err)
	}
	return &Fleet{
		Lab:  l,
		read: &http.Client{Timeout: 5 * time.Second},
		slow: &http.Client{Timeout: 30 * time.Second},
		ctr:  c,
	}, nil
}

// Close drops the containerd connection.
func (f *Fleet) Close() error { return f.ctr.Close() }

// NodeNames lists the lab's nodes in order.
func (f *Fleet) NodeNames() []string {
	out := make([]string, len(f.Lab.Nodes))
	for i, n := range f.Lab.Nodes {
		out[i] = n.Name
	}
	return out
}

func (f *Fleet) url(node, path string) (string, error) {
	n, err := f.Lab.Node(node)
	if err != nil {
		return "", err
	}
	return n.APIURL() + path, nil
}

// statusError is an answer other than 2xx.
type statusError struct {
	Code int
	Body string
	// NotWritten: the agent said it wrote nothing (notWrittenHeader).
	NotWritten bool
}

// notWrittenHeader is how an agent says that it wrote nothing for a
// request it refused with a server error: no agent on the way knew a
// leader, or the leader refused before proposing anything
// (agent/apiserver/leader_current.go). Any other 5xx may have been
// applied.
const notWrittenHeader = "X-Shoal-Not-Written"

func notWritten(h http.Header) bool { return h.Get(notWrittenHeader) == "true" }

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Code, e.Body) }

func (f *Fleet) do(ctx context.Context, hc *http.Client, method, node, path string, in, out any) error {
	u, err := f.url(node, path)
	if err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s on %s: %w", method, path, node, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s on %s: read answer: %w", method, path, node, err)
	}
	if resp.StatusCode/100 != 2 {
		msg := string(b)
		if len(msg) > 300 {
			msg = msg[:300]
		}
		return fmt.Errorf("%s %s on %s: %w", method, path, node, &statusError{Code: resp.StatusCode, Body: strings.TrimSpace(msg), NotWritten: notWritten(resp.Header)})
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s on %s: decode answer: %w", method, path, node, err)
		}
	}
	return nil
}

func (f *Fleet) get(ctx context.Context, node, path string, out any) error {
	return f.do(ctx, f.read, "GET", node, path, nil, out)
}

// clusterView is GET /shoal/v1/cluster.
type clusterView struct {
	Node   string `json:"node"`
	Server bool   `json:"server"`
	Leader string `json:"leader"`
}

// Leader finds the node that leads and says so itself, asking only the
// nodes not in skip (a partitioned or dead node cannot be asked, and a
// deposed leader cut off may still believe it leads).
func (f *Fleet) Leader(ctx context.Context, skip map[string]bool) (string, error) {
	seen := map[string]bool{}
	var lastErr error
	for _, n := range f.NodeNames() {
		if skip[n] {
			continue
		}
		var v clusterView
		if err := f.get(ctx, n, "/shoal/v1/cluster", &v); err != nil {
			lastErr = err
			continue
		}
		if v.Leader == "" || skip[v.Leader] || seen[v.Leader] {
			continue
		}
		seen[v.Leader] = true
		var lv clusterView
		if err := f.get(ctx, v.Leader, "/shoal/v1/cluster", &lv); err == nil && lv.Leader == v.Leader {
			return v.Leader, nil
		}
	}
	if lastErr == nil {
		lastErr = errors.New("no agent knows a leader")
	}
	return "", fmt.Errorf("find the leader: %w", lastErr)
}

// Voters is the Raft configuration's voters as node asks it.
func (f *Fleet) Voters(ctx context.Context, node string) ([]string, error) {
	var v struct {
		Leader  string `json:"leader"`
		Servers []struct {
			ID       string `json:"id"`
			Suffrage string `json:"suffrage"`
		} `json:"servers"`
	}
	if err := f.get(ctx, node, "/shoal/v1/raft", &v); err != nil {
		return nil, err
	}
	var out []string
	for _, s := range v.Servers {
		if s.Suffrage == "Voter" {
			out = append(out, s.ID)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Pods lists the workload's pods as node's state holds them.
func (f *Fleet) Pods(ctx context.Context, node string) ([]api.Pod, error) {
	var l api.PodList
	if err := f.get(ctx, node, "/api/v1/namespaces/"+Namespace+"/pods", &l); err != nil {
		return nil, err
	}
	return l.Items, nil
}

// RCs lists the workload's ReplicationControllers as node's state holds them.
func (f *Fleet) RCs(ctx context.Context, node string) ([]api.ReplicationController, error) {
	var l api.ReplicationControllerList
	if err := f.get(ctx, node, "/api/v1/namespaces/"+Namespace+"/replicationcontrollers", &l); err != nil {
		return nil, err
	}
	return l.Items, nil
}

// ReadyNodes lists the nodes node's state holds Ready.
func (f *Fleet) ReadyNodes(ctx context.Context, node string) (map[string]bool, error) {
	var l api.NodeList
	if err := f.get(ctx, node, "/api/v1/nodes", &l); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, n := range l.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == "Ready" && c.Status == "True" {
				out[n.ObjectMeta.Name] = true
			}
		}
	}
	return out, nil
}

// Healthy reports whether node's agent answers /healthz.
func (f *Fleet) Healthy(ctx context.Context, node string) bool {
	return f.get(ctx, node, "/healthz", nil) == nil
}

// Outcome is what a write's answer proves about it.
type Outcome int

const (
	// Acked: the fleet said yes; the write must be in the state from now on.
	Acked Outcome = iota
	// Rejected: a definite no (4xx); nothing changed.
	Rejected
	// Ambiguous: no answer or a server error; it may or may not have landed.
	Ambiguous
)

func (o Outcome) String() string {
	return [...]string{"acked", "rejected", "ambiguous"}[o]
}

func outcomeOf(err error) Outcome {
	if err == nil {
		return Acked
	}
	var se *statusError
	// The agents said they wrote nothing: the write never reached Raft.
	// A server error without that word proves nothing, whatever its
	// message: the same "no leader" words once came back for a write
	// that had been forwarded and may have landed.
	if errors.As(err, &se) && se.Code >= 500 && se.NotWritten {
		return Rejected
	}
	if errors.As(err, &se) && se.Code >= 400 && se.Code < 500 && se.Code != http.StatusRequestTimeout && se.Code != http.StatusTooManyRequests {
		return Rejected
	}
	return Ambiguous
}

func (f *Fleet) write(ctx context.Context, method, node, path string, in, out any) (Outcome, error) {
	err := f.do(ctx, f.slow, method, node, path, in, out)
	return outcomeOf(err), err
}

// CreatePod writes a pod through node.
func (f *Fleet) CreatePod(ctx context.Context, node string, p *api.Pod) (Outcome, error) {
	return f.write(ctx, "POST", node, "/api/v1/namespaces/"+Namespace+"/pods", p, nil)
}

// DeletePod deletes a pod through node at once (gracePeriodSeconds=0):
// the history checker models a delete as the register's removal, which a
// graceful delete (Terminating until the node stops the pod) is not.
func (f *Fleet) DeletePod(ctx context.Context, node, name string) (Outcome, error) {
	return f.write(ctx, "DELETE", node, "/api/v1/namespaces/"+Namespace+"/pods/"+name+"?gracePeriodSeconds=0", nil, nil)
}

// CreateRC writes an RC through node.
func (f *Fleet) CreateRC(ctx context.Context, node string, rc *api.ReplicationController) (Outcome, error) {
	return f.write(ctx, "POST", node, "/api/v1/namespaces/"+Namespace+"/replicationcontrollers", rc, nil)
}

// Scale sets an RC's replicas through node, as `shoal scale` does.
func (f *Fleet) Scale(ctx context.Context, node, rc string, replicas int32) (Outcome, error) {
	path := "/api/v1/namespaces/" + Namespace + "/replicationcontrollers/" + rc + "/scale"
	var sc api.Scale
	if err := f.do(ctx, f.read, "GET", node, path, nil, &sc); err != nil {
		// Nothing was written yet.
		return Rejected, err
	}
	sc.Spec.Replicas = replicas
	return f.write(ctx, "PUT", node, path, sc, nil)
}

// ImportImage sends an image archive to every node through node.
func (f *Fleet) ImportImage(ctx context.Context, node, archive string) error {
	u, err := f.url(node, "/shoal/v1/images")
	if err != nil {
		return err
	}
	file, err := os.Open(archive)
	if err != nil {
		return fmt.Errorf("import image: %w", err)
	}
	defer file.Close()
	req, err := http.NewRequestWithContext(ctx, "POST", u, file)
	if err != nil {
		return fmt.Errorf("import image: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-tar")
	resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		return fmt.Errorf("import image through %s: %w", node, err)
	}
	defer resp.Body.Close()
	var res struct {
		Nodes map[string]string `json:"nodes"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &res) != nil {
		return fmt.Errorf("import image through %s: HTTP %d: %s", node, resp.StatusCode, b)
	}
	for n, st := range res.Nodes {
		if st != "ok" {
			return fmt.Errorf("import image into %s: %s", n, st)
		}
	}
	if len(res.Nodes) != len(f.Lab.Nodes) {
		return fmt.Errorf("import image: %d of %d nodes answered: %v", len(res.Nodes), len(f.Lab.Nodes), res.Nodes)
	}
	return nil
}

// Observe reads the state from the leader, asking no node in away, and
// what runs on every node not in killed (a powered-off node runs nothing,
// whatever its namespaces hold).
func (f *Fleet) Observe(ctx context.Context, away, killed map[string]bool) (Observation, error) {
	var o Observation
	leader, err := f.Leader(ctx, away)
	if err != nil {
		return o, err
	}
	if o.Pods, err = f.Pods(ctx, leader); err != nil {
		return o, err
	}
	if o.RCs, err = f.RCs(ctx, leader); err != nil {
		return o, err
	}
	o.Running = map[string]map[string]string{}
	o.NetnsIPs = map[string]map[string][]string{}
	for _, n := range f.NodeNames() {
		if killed[n] {
			continue
		}
		if o.Running[n], err = f.RunningPods(ctx, n); err != nil {
			return o, err
		}
		if o.NetnsIPs[n], err = f.NetnsIPs(n); err != nil {
			return o, err
		}
	}
	return o, nil
}

// RunningPods maps pod UID to pod name for every pod with a running task
// in node's containerd namespace: what really runs, whatever the state says.
func (f *Fleet) RunningPods(ctx context.Context, node string) (map[string]string, error) {
	ctx = namespaces.WithNamespace(ctx, f.Lab.ContainerdNamespace(node))
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	tasks, err := f.ctr.TaskService().List(ctx, &tasksapi.ListTasksRequest{})
	if err != nil {
		return nil, fmt.Errorf("list tasks of %s: %w", node, err)
	}
	running := map[string]bool{}
	for _, t := range tasks.Tasks {
		if t.Status == tasktypes.Status_RUNNING {
			running[t.ID] = true
		}
	}
	ctrs, err := f.ctr.ContainerService().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list containers of %s: %w", node, err)
	}
	out := map[string]string{}
	for _, c := range ctrs {
		if running[c.ID] {
			uid := c.Labels["io.shoal.pod.uid"]
			if uid == "" {
				uid = "container:" + c.ID
			}
			out[uid] = c.Labels["io.shoal.pod.name"]
		}
	}
	return out, nil
}

// NetnsIPs maps every IPv4 address found in node's pod network namespaces
// to the namespace that holds it.
func (f *Fleet) NetnsIPs(node string) (map[string][]string, error) {
	prefix := f.Lab.PodNetnsPrefix(node)
	entries, err := os.ReadDir(lab.NetnsDir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", lab.NetnsDir, err)
	}
	out := map[string][]string{}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		ips, err := netnsAddrs(filepath.Join(lab.NetnsDir, e.Name()))
		if err != nil {
			continue // torn down while we looked
		}
		for _, ip := range ips {
			out[ip] = append(out[ip], e.Name())
		}
	}
	return out, nil
}

func netnsAddrs(path string) ([]string, error) {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	addrs, err := h.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range addrs {
		if a.IP == nil || a.IP.IsLoopback() || a.IP.Equal(net.IPv4zero) {
			continue
		}
		out = append(out, a.IP.String())
	}
	return out, nil
}

// AgentRSS is the resident memory of node's agent in bytes (0 when it is
// not running).
func (f *Fleet) AgentRSS(node string) int64 {
	var total int64
	for _, pid := range f.Lab.AgentPIDs(node) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				var kb int64
				fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
				total += kb * 1024
			}
		}
	}
	return total
}
