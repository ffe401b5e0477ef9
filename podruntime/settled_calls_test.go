package podruntime

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	containerd "github.com/containerd/containerd"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/shoal-dev/shoal/api"
)

// callCounter counts the containerd API calls a runtime makes, by method.
type callCounter struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *callCounter) count(method string) {
	c.mu.Lock()
	c.calls[method]++
	c.mu.Unlock()
}

func (c *callCounter) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	c.count(method)
	return invoker(ctx, method, req, reply, cc, opts...)
}

func (c *callCounter) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	c.count(method)
	return streamer(ctx, desc, cc, method, opts...)
}

// take returns the calls counted since the last take, by method name
// (the part after the service's last dot: "Containers/ListStream").
func (c *callCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for m, n := range c.calls {
		out[m[strings.LastIndexByte(m, '.')+1:]] += n
	}
	c.calls = map[string]int{}
	return out
}

// countCalls points r at the test containerd through a connection that
// counts its calls.
func countCalls(t *testing.T, r *Runtime) *callCounter {
	t.Helper()
	cnt := &callCounter{calls: map[string]int{}}
	conn, err := grpc.Dial("unix://"+testContainerd.address,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(cnt.unary), grpc.WithChainStreamInterceptor(cnt.stream))
	if err != nil {
		t.Fatal(err)
	}
	client, err := containerd.NewWithConn(conn, containerd.WithDefaultNamespace(testNamespace))
	if err != nil {
		t.Fatal(err)
	}
	old := r.client
	r.client = client
	t.Cleanup(func() {
		r.client = old
		client.Close()
	})
	cnt.take() // the client's own calls as it starts
	return cnt
}

func callList(m map[string]int) string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// The node's periodic pass over a pod that runs and is ready, as it looks
// at every pod of the node each resync, asks containerd only about that
// pod's own container and task: no list of the namespace's containers,
// which containerd answers by reading every container record (a pass over
// N pods read N² of them, three times), and one read of the container and
// of its task per call rather than one for every question asked of them
// (docs/performance.md, session 23).
func TestSettledPodPassReadsOnlyItsOwnContainer(t *testing.T) {
	r := newTestRuntime(t)
	ctx := context.Background()
	// Other pods on the node, whose containers a list would read too.
	for i := range 3 {
		other := newPod(t, fmt.Sprintf("other%d", i), api.RestartAlways, shell("c", imageV1, "exec sleep 1000"))
		syncUntil(t, r, other, "", "running", func(st api.PodStatus) bool { return running(st, "c") })
	}
	pod := newPod(t, "settled", api.RestartAlways, shell("c", imageV1, "exec sleep 1000"))
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "c") })

	cnt := countCalls(t, r)
	if err := r.SyncPod(ctx, pod, ""); err != nil {
		t.Fatal(err)
	}
	syncCalls := cnt.take()
	st, err := r.PodStatus(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	statusCalls := cnt.take()
	if !running(st, "c") {
		t.Fatalf("status %+v, want c running", st.ContainerStatuses)
	}
	for what, calls := range map[string]map[string]int{"SyncPod": syncCalls, "PodStatus": statusCalls} {
		if n := calls["Containers/List"] + calls["Containers/ListStream"]; n > 0 {
			t.Errorf("%s of a settled pod listed containers %d times: %s", what, n, callList(calls))
		}
		if calls["Containers/Get"] > 1 || calls["Tasks/Get"] > 1 {
			t.Errorf("%s of a settled pod read its one container or its task more than once: %s", what, callList(calls))
		}
	}
}

// A container the spec no longer names is removed by the next sync, also
// once the pod's containers are read by name (reads.go): the names a
// pod had are remembered, not only those of its spec.
func TestSyncRemovesAContainerTheSpecNoLongerNames(t *testing.T) {
	r := newTestRuntime(t)
	ctx := r.withNS(context.Background())
	pod := newPod(t, "two", api.RestartAlways, shell("a", imageV1, "exec sleep 1000"), shell("b", imageV1, "exec sleep 1000"))
	syncUntil(t, r, pod, "", "both running", func(st api.PodStatus) bool { return running(st, "a", "b") })
	if err := r.SyncPod(ctx, pod, ""); err != nil { // a pass that reads by name
		t.Fatal(err)
	}
	pod.Spec.Containers = pod.Spec.Containers[:1]
	syncUntil(t, r, pod, "", "only a", func(st api.PodStatus) bool { return running(st, "a") && len(st.ContainerStatuses) == 1 })
	if _, err := r.client.LoadContainer(ctx, containerID(string(pod.ObjectMeta.UID), "b")); err == nil {
		t.Error("container b is still there after the spec dropped it")
	}
}

// A container removed behind the runtime's back (task and all) is made
// again by the next sync, as when a list no longer showed it.
func TestSyncRemakesAContainerRemovedBehindItsBack(t *testing.T) {
	r := newTestRuntime(t)
	ctx := r.withNS(context.Background())
	pod := newPod(t, "remade", api.RestartAlways, shell("c", imageV1, "exec sleep 1000"))
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "c") })
	id := containerID(string(pod.ObjectMeta.UID), "c")
	cont, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	loseTask(t, r, pod, "c")
	if err := cont.Delete(ctx, containerd.WithSnapshotCleanup); err != nil {
		t.Fatal(err)
	}
	syncUntil(t, r, pod, "", "running again", func(st api.PodStatus) bool { return running(st, "c") })
	if _, err := r.client.LoadContainer(ctx, id); err != nil {
		t.Errorf("container c not made again: %v", err)
	}
}
