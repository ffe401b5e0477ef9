package apiserver

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	kresource "k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/podruntime"
)

// usageRuntime counts CPU as if every container used a quarter of a core
// and holds 10 MiB, from the first reading on.
type usageRuntime struct {
	PodRuntime
	mu    sync.Mutex
	start time.Time
}

func (f *usageRuntime) Usage(_ context.Context, _ string, containers []string) ([]podruntime.ContainerUsage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if f.start.IsZero() {
		f.start = now
	}
	var out []podruntime.ContainerUsage
	for _, c := range containers {
		out = append(out, podruntime.ContainerUsage{Name: c, CPU: now.Sub(f.start) / 4, WorkingSet: 10 << 20, Time: now})
	}
	return out, nil
}

// boundPodAPI serves the API of a one-seat fleet whose server is also the
// node n1, running pod web (containers main and side), over rt.
func boundPodAPI(t *testing.T, rt PodRuntime) string {
	t.Helper()
	c := consensus.NewTestCluster(t, 1)
	s := c.Leader()
	srv := httptest.NewServer(New(Config{Name: "n1", Log: slog.New(slog.DiscardHandler)},
		Deps{Seats: fixedSeat{store: s.FSM, log: s.Raft}, Runtime: fixedRuntime{rt}}).Handler())
	t.Cleanup(srv.Close)
	ctx := context.Background()
	n := api.Node{}
	n.Name, n.UID = "n1", "uid-n1"
	n.Status.Allocatable = api.ResourceList{api.ResourceMemory: kresource.MustParse("1Gi"), api.ResourceCPU: kresource.MustParse("2")}
	n.Status.Capacity = n.Status.Allocatable
	n.Status.Conditions = []api.NodeCondition{{Type: "Ready", Status: api.ConditionTrue}}
	pod := api.Pod{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "main", Image: "busybox"}, {Name: "side", Image: "busybox"}}}}
	for _, cmd := range []consensus.Command{
		consensus.RegisterNode{Node: n, Time: time.Now().UTC()},
		consensus.CreatePod{Pod: pod, UID: "uid-web", Time: time.Now().UTC()},
		consensus.BindPod{Namespace: "default", Name: "web", UID: "uid-web", Node: "n1", PodIP: "10.244.0.5", Time: time.Now().UTC()},
		consensus.UpdatePodStatus{Namespace: "default", Name: "web", UID: "uid-web", Node: "n1", Status: api.PodStatus{Phase: api.PodRunning}, Time: time.Now().UTC()},
	} {
		if _, err := s.Raft.Apply(ctx, cmd); err != nil {
			t.Fatalf("%T: %v", cmd, err)
		}
	}
	return srv.URL
}

// kubectl top pod and top node through the machine's kubectl, against a
// server that is also the node running the pod.
func TestKubectlTopFromTheNodesCounters(t *testing.T) {
	base := boundPodAPI(t, &usageRuntime{})
	run, _ := kubectlAgainst(t, base)
	words := func(args ...string) string {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("kubectl %v: %v\n%s", args, err, out)
		}
		return strings.Join(strings.Fields(out), " ")
	}
	// Two containers at a quarter core each: 500m, 20Mi.
	if got := words("top", "pod"); !strings.HasPrefix(got, "NAME CPU(cores) MEMORY(bytes) web ") || !strings.Contains(got, " 20Mi") {
		t.Errorf("top pod: %s", got)
	} else if cpu := strings.Fields(got)[4]; cpu != "500m" && cpu != "499m" && cpu != "501m" {
		t.Errorf("top pod CPU: %s", got)
	}
	if got := words("top", "pod", "web", "--containers"); !strings.Contains(got, "web main ") || !strings.Contains(got, "web side ") || !strings.Contains(got, "10Mi") {
		t.Errorf("top pod --containers: %s", got)
	}
	if got := words("top", "node"); !strings.HasPrefix(got, "NAME CPU(cores) CPU(%) MEMORY(bytes) MEMORY(%) n1 ") || !strings.Contains(got, " 20Mi 1%") {
		t.Errorf("top node: %s", got)
	}
	if out, err := run("top", "pod", "nothere"); err == nil || !strings.Contains(out, "nothere") {
		t.Errorf("top of a missing pod: %v\n%s", err, out)
	}
}
