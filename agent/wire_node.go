package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/shoal-dev/shoal/agent/node"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/netplane"
	"github.com/shoal-dev/shoal/podruntime"
)

// This file wires package agent/node, what every agent runs for its own
// machine, to the rest of the agent: the fencer and the reconciler it
// builds, and the adapters that give them the fleet (Raft seat, gossip,
// the API) through node's interfaces.

// newFencer builds this agent's fencer; Run starts its loop.
func (a *Agent) newFencer() *node.Fencer {
	return node.NewFencer(node.FenceConfig{Liveness: a.cfg.liveness(), ViewFile: a.dataPath("node", "view.json"),
		PlannedStopFile: a.dataPath("node", "planned-stop.json"), Log: a.log}, nodeFleet{a})
}

// fenceLoop stops this node's controller-managed pods once it has been
// out of contact for longer than the liveness budget allows
// (agent/node/fencing.go).
func (a *Agent) fenceLoop(ctx context.Context) { a.fence.Run(ctx) }

// runNode connects to containerd (retrying: it may start after us), then
// follows the node's assignments until ctx is done.
func (a *Agent) runNode(ctx context.Context) {
	if a.cfg.NodeBackend != nil {
		a.runHollowNode(ctx) // agent/wire_node_hollow.go
		return
	}
	plane, err := netplane.New(netplane.Config{NetnsPrefix: a.cfg.NetnsPrefix}, a.log.With("part", "netplane"))
	if err != nil {
		a.log.Error("pod network unavailable; this node runs no pods", "err", err)
		return
	}
	defer plane.Close()
	if err := plane.EnsureNode(ctx); err != nil {
		a.log.Error("prepare the node for pod routing", "err", err)
	}
	fleetAPI := a.nodeAPI(time.Minute)
	apiAccess, err := a.apiAccess() // agent/pod_tokens.go
	if err != nil {
		a.log.Error("pods get no access to the API", "err", err)
		apiAccess = nil
	}
	var (
		rt              *podruntime.Runtime
		clusterDNS      *podruntime.ClusterDNS
		servicesStarted bool
	)
	for delay := 200 * time.Millisecond; ; {
		// containerd's client dials for seconds before it gives up on a
		// socket that is not there; look first so the agent stays responsive.
		if _, err = os.Stat(a.cfg.ContainerdAddress); err == nil {
			// Services start with the node's pods, once containerd is
			// there: an agent that runs no pods (a unit test's) programs
			// no rules in its namespace.
			if !servicesStarted {
				clusterDNS, servicesStarted = a.startServices(ctx, fleetAPI), true // agent/wire_node_services.go
			}
			rt, err = podruntime.New(ctx, podruntime.Config{
				Address: a.cfg.ContainerdAddress, Namespace: a.cfg.ContainerdNamespace,
				StateDir: a.dataPath("pods"), Log: a.log.With("part", "podruntime"),
				Events:      eventRecorders{podEventRecorder{a}, a.events}, // agent/metrics.go, agent/events.go
				Registries:  a.cfg.registries(),
				Credentials: pullSecrets{a}, // agent/pull_secrets.go
				Objects:     podObjects{a},  // agent/pod_objects.go
				ClusterDNS:  clusterDNS,
				API:         apiAccess, // agent/pod_tokens.go
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
	go rt.WatchExits(ctx) // podruntime/changes.go: wakes the reconciler
	n, err := node.New(node.Config{Name: a.cfg.Name, Resync: a.cfg.ResyncInterval, Log: a.log},
		node.Deps{Assignments: &heldView{c: fleetAPI}, Status: fleetAPI, Runtime: rt, Network: plane, Fence: a.fence, Metrics: reconcileMetrics{a.metrics},
			Changes: rt})
	if err != nil {
		a.log.Error("node reconciler", "err", err)
		return
	}
	n.Run(ctx)
}

// nodeAPI is the node's client of the fleet's API, through this agent's
// own API address (which forwards to a server): its assignments and its
// pods' status reports.
func (a *Agent) nodeAPI(timeout time.Duration) nodeAPIClient {
	return nodeAPIClient{name: a.cfg.Name, addr: a.self.API, http: a.internalClient(timeout)}
}

type nodeAPIClient struct {
	name string // this node
	addr string // the API it asks
	http *http.Client
}

// fetchSlack is how long past the blocking query's wait an answer may
// take. A client's query is forwarded to a server; when that server is cut
// off mid-query no RST comes back, and without this bound the reconciler
// would hang for the HTTP client's whole minute, leaving pods just bound
// here unstarted (found by `shoal lab chaos`).
const fetchSlack = 5 * time.Second

// Assignments is GET /shoal/v1/nodes/{name}/assignments
// (agent/apiserver/api_server.go).
func (c nodeAPIClient) Assignments(ctx context.Context, after uint64, wait time.Duration) (*node.Assignments, error) {
	v, err := c.fetchAssignments(ctx, after, wait, "")
	if err != nil {
		return nil, err
	}
	return &node.Assignments{Index: v.Index, Pods: v.Pods, Nodes: v.Nodes}, nil
}

// fetchAssignments is the blocking assignments query after index after;
// a non-empty view names the view the caller holds, for the server to
// wait past changes that leave it as it is (wire_node_view.go).
func (c nodeAPIClient) fetchAssignments(ctx context.Context, after uint64, wait time.Duration, view string) (*assignmentsView, error) {
	ctx, cancel := context.WithTimeout(ctx, wait+fetchSlack)
	defer cancel()
	q := url.Values{"index": {fmt.Sprint(after)}, "wait": {wait.String()}}
	if view != "" {
		q.Set("view", view)
	}
	u := "http://" + c.addr + "/shoal/v1/nodes/" + url.PathEscape(c.name) + "/assignments?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
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

// sendJSON sends body as JSON with method to the API path u and answers
// the status code.
func (c nodeAPIClient) sendJSON(ctx context.Context, method, u string, body any) (int, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.addr+u, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// WritePodStatus is PUT /api/v1/namespaces/{ns}/pods/{name}/status, which
// the fleet accepts only from the node the pod is bound to.
func (c nodeAPIClient) WritePodStatus(ctx context.Context, p *api.Pod, st api.PodStatus) error {
	body := api.Pod{ObjectMeta: api.ObjectMeta{Name: p.ObjectMeta.Name, Namespace: p.ObjectMeta.Namespace, UID: p.ObjectMeta.UID}, Spec: api.PodSpec{NodeName: c.name}, Status: st}
	code, err := c.sendJSON(ctx, http.MethodPut, "/api/v1/namespaces/"+url.PathEscape(p.ObjectMeta.Namespace)+"/pods/"+url.PathEscape(p.ObjectMeta.Name)+"/status", body)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("HTTP %d", code)
	}
	return nil
}

// reconcileMetrics counts the reconciler's passes; a nil *metrics records
// nothing.
type reconcileMetrics struct{ m *metrics }

func (r reconcileMetrics) Reconciled(d time.Duration) { r.m.reconciled(d) }

// nodeFleet is the fleet as fencing sees it: this agent's seat, the
// leader's index, gossip.
type nodeFleet struct{ a *Agent }

func (f nodeFleet) Seat() node.Seat {
	role := f.a.role.Load()
	if role == nil {
		return nil // an untyped nil: fencing tells a client by it
	}
	return roleSeat{role}
}

// LeaderIndex asks the leader for the index its state has applied.
func (f nodeFleet) LeaderIndex(ctx context.Context) (uint64, error) {
	a := f.a
	target := a.leaderAPI()
	if target == "" {
		return 0, fmt.Errorf("no leader address known")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+target+"/shoal/v1/raft", nil)
	if err != nil {
		return 0, err
	}
	resp, err := a.internalClient(time.Second).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("leader %s: HTTP %d", target, resp.StatusCode)
	}
	var v struct {
		Index uint64 `json:"index"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return 0, err
	}
	if v.Index == 0 {
		return 0, fmt.Errorf("leader %s reported no index", target)
	}
	return v.Index, nil
}

// PingServer reports whether a server answered a gossip ping just now: a
// client's evidence of contact with the fleet (agent/membership.go).
func (f nodeFleet) PingServer() bool { return f.a.members.pingServer(f.a.cfg.Name) }

// ServerAnswered is when a server last acked one of gossip's own probes of
// it (agent/membership_server_acks.go).
func (f nodeFleet) ServerAnswered() time.Time { return f.a.members.serverAnswered() }

// roleSeat is a server's Raft seat with the state it applies to; both come
// from one published role, so they never disagree.
type roleSeat struct{ r *serverRole }

func (s roleSeat) IsLeader() bool                         { return s.r.raft.IsLeader() }
func (s roleSeat) Leader() (id, addr string)              { return s.r.raft.Leader() }
func (s roleSeat) LastContact() time.Time                 { return s.r.raft.LastContact() }
func (s roleSeat) VerifyLeader(ctx context.Context) error { return s.r.raft.VerifyLeader(ctx) }
func (s roleSeat) CaughtUp(ctx context.Context) bool      { return s.r.raft.CaughtUp(ctx) }
func (s roleSeat) AppliedIndex() uint64                   { return s.r.fsm.Index() }

// stateCurrent says whether this server's state may be served to a node
// as its assignments (agent/node/statecurrent.go).
func (a *Agent) stateCurrent(ctx context.Context) bool {
	return node.StateCurrent(ctx, nodeFleet{a}.Seat(), a.log)
}
