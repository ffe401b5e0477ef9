package agent

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	gometrics "github.com/hashicorp/go-metrics"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/shoal-dev/shoal/api"
)

func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: HTTP %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

// sample returns the value of the metric line that starts with series, or -1.
func sample(text, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func TestMetricsReportMembersRaftPodsAndPlacements(t *testing.T) {
	lib, err := LibraryMetrics()
	if err != nil {
		t.Fatal(err)
	}
	cfg := runAgent(t, "metered", func(c *Config) { c.BootstrapExpect = 1; c.ExtraMetrics = lib })
	base := fmt.Sprintf("http://127.0.0.1:%d", cfg.APIPort)
	eventually(t, "the node registered", func() bool {
		code, _, err := call(http.DefaultClient, "GET", base+"/api/v1/nodes/metered", "", "")
		return err == nil && code == 200
	})
	for name, mem := range map[string]string{"fits": "1Gi", "too-big": "3Gi"} {
		if code, st := send(t, "POST", base+"/api/v1/namespaces/default/pods", fmt.Sprintf(podYAML, name, mem)); code != http.StatusCreated {
			t.Fatalf("create %s: HTTP %d %+v", name, code, st)
		}
	}
	var text string
	eventually(t, "one placement and one placement failure counted", func() bool {
		text = scrape(t, base)
		return sample(text, "shoal_placements_total") == 1 && sample(text, "shoal_placement_failures_total") >= 1
	})
	for series, want := range map[string]float64{
		`shoal_gossip_members{state="alive"}`:   1,
		`shoal_gossip_members{state="suspect"}`: 0,
		`shoal_gossip_members{state="failed"}`:  0,
		`shoal_raft_is_leader`:                  1,
		`shoal_raft_has_leader`:                 1,
		`shoal_raft_peers`:                      0,
		`shoal_pods{phase="Pending"}`:           2,
		`shoal_pods{phase="Running"}`:           0,
	} {
		if got := sample(text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	for _, series := range []string{`shoal_raft_term`, `shoal_raft_commit_index`, `shoal_raft_applied_index`} {
		if got := sample(text, series); got < 1 {
			t.Errorf("%s = %v, want at least 1", series, got)
		}
	}
	// Raft's own timings, through LibraryMetrics: commit time is how long
	// an apply waited for its entry to commit.
	if !regexp.MustCompile(`(?m)^raft_commitTime\{quantile="0.5"\} `).MatchString(text) {
		t.Errorf("no raft_commitTime in the scrape")
	}
	if got := sample(text, `shoal_api_requests_total{code="201",method="POST"}`); got != 2 {
		t.Errorf("POSTs answered 201 = %v, want 2", got)
	}
}

func TestPodEventsAreCountedByTypeAndReason(t *testing.T) {
	a := &Agent{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	a.metrics = newMetrics(a)
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: "web"}}
	rec := podEventRecorder{a}
	rec.Event(pod, "Warning", "Unhealthy", "liveness probe failed: HTTP 500")
	rec.Event(pod, "Warning", "Unhealthy", "liveness probe failed: HTTP 500")
	rec.Event(pod, "Normal", "Started", "started")
	if got := counterValue(t, a.metrics.podEvents.WithLabelValues("Warning", "Unhealthy")); got != 2 {
		t.Fatalf("Unhealthy = %v", got)
	}
	if got := counterValue(t, a.metrics.podEvents.WithLabelValues("Normal", "Started")); got != 1 {
		t.Fatalf("Started = %v", got)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestLibraryMetricsLeaveOutPerRPCTimings: the libraries' per-heartbeat and
// per-tick timings are not exported (each is a summary an idle fleet feeds
// many times a second); the apply latencies an operator reads are.
func TestLibraryMetricsLeaveOutPerRPCTimings(t *testing.T) {
	lib, err := LibraryMetrics()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Millisecond)
	for _, name := range [][]string{
		{"raft", "commitTime"}, {"raft", "fsm", "apply"}, {"memberlist", "probeNode"},
		{"raft", "rpc", "processHeartbeat"}, {"raft", "net", "rpcDecode"}, {"raft", "replication", "heartbeat"}, {"memberlist", "gossip"},
	} {
		gometrics.MeasureSince(name, start)
	}
	mfs, err := lib.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, mf := range mfs {
		got[mf.GetName()] = true
	}
	for _, name := range []string{"raft_commitTime", "raft_fsm_apply", "memberlist_probeNode"} {
		if !got[name] {
			t.Errorf("%s not exported (have %v)", name, got)
		}
	}
	for _, name := range []string{"raft_rpc_processHeartbeat", "raft_net_rpcDecode", "raft_replication_heartbeat", "memberlist_gossip"} {
		if got[name] {
			t.Errorf("%s exported: a per-RPC or per-tick timing", name)
		}
	}
}
