package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	gometrics "github.com/hashicorp/go-metrics"
	gmprom "github.com/hashicorp/go-metrics/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shoal-dev/shoal/api"
)

// metrics is one agent's Prometheus registry. Counters and histograms are
// updated where things happen (placement, reconcile, requests); everything
// that is a reading of the state (members, Raft, pods, restarts) is read
// at scrape time by stateCollector, so it can never drift from the truth.
// A nil *metrics records nothing, so code paths built without an agent
// (unit tests) need no setup.
type metrics struct {
	reg               *prometheus.Registry
	requests          *prometheus.CounterVec
	placements        prometheus.Counter
	placementFailures prometheus.Counter
	reconcile         prometheus.Histogram
	podEvents         *prometheus.CounterVec
}

func newMetrics(a *Agent) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_api_requests_total", Help: "API requests this agent answered, by method and HTTP code.",
		}, []string{"method", "code"}),
		placements: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_placements_total", Help: "Pods this agent, as leader, bound to a node.",
		}),
		placementFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_placement_failures_total", Help: "Placement attempts, as leader, that found no node the whole pod fits on.",
		}),
		reconcile: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "shoal_reconcile_duration_seconds", Help: "Time of one pass of the node reconciler over its pods.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
		podEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_pod_events_total",
			Help: "What happened to the pods of this node, by Kubernetes event type and reason: Unhealthy counts failed probes, Killing containers stopped for a failed liveness probe, BackOff crash back-offs.",
		}, []string{"type", "reason"}),
	}
	m.reg.MustRegister(m.requests, m.placements, m.placementFailures, m.reconcile, m.podEvents,
		&stateCollector{a: a},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) request(method string, code int) {
	if m != nil {
		m.requests.WithLabelValues(method, strconv.Itoa(code)).Inc()
	}
}

func (m *metrics) placed() {
	if m != nil {
		m.placements.Inc()
	}
}

func (m *metrics) placementFailed() {
	if m != nil {
		m.placementFailures.Inc()
	}
}

func (m *metrics) reconciled(d time.Duration) {
	if m != nil {
		m.reconcile.Observe(d.Seconds())
	}
}

// podEventRecorder counts podruntime's events (probe failures, kills,
// back-offs) and logs the warnings, which are what an operator looks for.
type podEventRecorder struct{ a *Agent }

func (r podEventRecorder) Event(pod *api.Pod, eventType, reason, message string) {
	if m := r.a.metrics; m != nil {
		m.podEvents.WithLabelValues(eventType, reason).Inc()
	}
	level := slog.LevelDebug
	if eventType == "Warning" {
		level = slog.LevelInfo
	}
	r.a.log.Log(context.Background(), level, "pod event", "pod", api.KeyOf(pod), "type", eventType, "reason", reason, "message", message)
}

// metricsHandler serves the agent's metrics and the libraries' (Raft's
// commit and apply times) in the Prometheus text format.
func (a *Agent) metricsHandler() http.Handler {
	g := prometheus.Gatherers{a.metrics.reg}
	if a.cfg.ExtraMetrics != nil {
		g = append(g, a.cfg.ExtraMetrics)
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorLog: slogPromLogger{a}})
}

type slogPromLogger struct{ a *Agent }

func (l slogPromLogger) Println(v ...any) { l.a.log.Warn("metrics", "err", fmt.Sprint(v...)) }

var (
	descMembers      = prometheus.NewDesc("shoal_gossip_members", "Agents by gossip state as this agent sees them (a suspect agent counts as alive: memberlist_node_instances has suspicion; failed: registered nodes gossip no longer has; servers only).", []string{"state"}, nil)
	descRaftLeader   = prometheus.NewDesc("shoal_raft_is_leader", "1 when this server is the Raft leader.", nil, nil)
	descRaftHas      = prometheus.NewDesc("shoal_raft_has_leader", "1 when this server knows a Raft leader.", nil, nil)
	descRaftTerm     = prometheus.NewDesc("shoal_raft_term", "Current Raft term.", nil, nil)
	descRaftCommit   = prometheus.NewDesc("shoal_raft_commit_index", "Raft commit index.", nil, nil)
	descRaftApplied  = prometheus.NewDesc("shoal_raft_applied_index", "Raft index applied to the state machine.", nil, nil)
	descRaftLastLog  = prometheus.NewDesc("shoal_raft_last_log_index", "Last index in this server's Raft log.", nil, nil)
	descRaftPeers    = prometheus.NewDesc("shoal_raft_peers", "Other voters in the Raft configuration.", nil, nil)
	descPods         = prometheus.NewDesc("shoal_pods", "Pods in the fleet's state by phase (servers only).", []string{"phase"}, nil)
	descRestarts     = prometheus.NewDesc("shoal_container_restarts_total", "Restarts of each container, as its node last reported (servers only).", []string{"namespace", "pod", "container", "node"}, nil)
	descProbeResults = prometheus.NewDesc("shoal_containers_ready", "Containers by readiness as their nodes last reported: the outcome of readiness probes (servers only).", []string{"ready"}, nil)
)

// stateCollector reads gossip, Raft and the fleet's state at scrape time.
type stateCollector struct{ a *Agent }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMembers, descRaftLeader, descRaftHas, descRaftTerm, descRaftCommit, descRaftApplied, descRaftLastLog, descRaftPeers, descPods, descRestarts, descProbeResults} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	a := c.a
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	states := map[string]float64{"alive": 0, "suspect": 0}
	seen := map[string]bool{}
	if a.members != nil {
		// memberlist does not publish a member's suspicion, only its
		// death: a suspect member still counts as alive here.
		for _, m := range a.members.members() {
			seen[m.Name] = true
			states["alive"]++
		}
	}
	if a.fsm() != nil {
		nodes, _ := a.fsm().Nodes()
		failed := 0.0
		for _, n := range nodes {
			if !seen[n.ObjectMeta.Name] {
				failed++
			}
		}
		states["failed"] = failed
	}
	for s, v := range states {
		gauge(descMembers, v, s)
	}

	if a.raft() != nil {
		gauge(descRaftLeader, b2f(a.raft().IsLeader()))
		id, _ := a.raft().Leader()
		gauge(descRaftHas, b2f(id != ""))
		if st, ok := a.raft().(interface{ Stats() map[string]string }); ok {
			stats := st.Stats()
			for key, d := range map[string]*prometheus.Desc{"term": descRaftTerm, "commit_index": descRaftCommit, "applied_index": descRaftApplied, "last_log_index": descRaftLastLog, "num_peers": descRaftPeers} {
				if v, err := strconv.ParseFloat(stats[key], 64); err == nil {
					gauge(d, v)
				}
			}
		}
	}

	if a.fsm() != nil {
		phases := map[string]float64{}
		for _, p := range []string{string(api.PodPending), string(api.PodRunning), string(api.PodSucceeded), string(api.PodFailed), string(api.PodUnknown)} {
			phases[p] = 0
		}
		ready := map[string]float64{"true": 0, "false": 0}
		pods, _ := a.fsm().Pods(func(*api.Pod) bool { return true })
		for _, p := range pods {
			phase := string(p.Status.Phase)
			if phase == "" {
				phase = string(api.PodPending)
			}
			phases[phase]++
			for _, cs := range p.Status.ContainerStatuses {
				ch <- prometheus.MustNewConstMetric(descRestarts, prometheus.CounterValue, float64(cs.RestartCount),
					p.ObjectMeta.Namespace, p.ObjectMeta.Name, cs.Name, p.Spec.NodeName)
				ready[strconv.FormatBool(cs.Ready)]++
			}
		}
		for ph, v := range phases {
			gauge(descPods, v, ph)
		}
		for r, v := range ready {
			gauge(descProbeResults, v, r)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// libraryMetricsBlocked are the libraries' timings taken once per RPC or
// per timer tick, which an idle fleet pays for many times a second: a
// follower sampled five summaries for each of the leader's heartbeats
// (raft.net.*, raft.rpc.processHeartbeat), the leader one per heartbeat
// and follower (raft.replication.*), every agent one per gossip tick
// (memberlist.gossip, 10 a second, mostly with nothing to send). Each
// sample took a lock and a key built from its name; each series is a
// Prometheus summary of five quantile streams, and together they held
// 4 MB of an idle seat's 9 MB of heap (docs/performance.md). What an
// operator reads (raft_commitTime, raft_fsm_apply, raft_leader_lastContact,
// memberlist_probeNode, memberlist's counters) stays.
var libraryMetricsBlocked = []string{"raft.net.", "raft.rpc.", "raft.replication.", "memberlist.gossip"}

// LibraryMetrics routes the metrics that hashicorp/raft and memberlist
// emit (raft commit time = apply latency, FSM apply time, gossip probe
// times) into a Prometheus registry and returns it for Config.ExtraMetrics.
// Those libraries report to go-metrics' process-wide sink, so this sets
// that sink: call it once per process, from main, never from a library.
func LibraryMetrics() (prometheus.Gatherer, error) {
	reg := prometheus.NewRegistry()
	sink, err := gmprom.NewPrometheusSinkFrom(gmprom.PrometheusOpts{Registerer: reg, Expiration: time.Hour})
	if err != nil {
		return nil, fmt.Errorf("metrics sink: %w", err)
	}
	// No service prefix: the libraries' names (raft_commitTime,
	// memberlist_gossip) stay as their documentation spells them, and
	// cannot collide with shoal_* above.
	conf := gometrics.DefaultConfig("")
	conf.EnableHostname = false
	conf.EnableHostnameLabel = false
	conf.EnableRuntimeMetrics = false // the Go collector reports these already
	conf.BlockedPrefixes = libraryMetricsBlocked
	if _, err := gometrics.NewGlobal(conf, sink); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return reg, nil
}
