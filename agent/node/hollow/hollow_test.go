package hollow

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/netplane"
)

func testPod(uid string) *api.Pod {
	return &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: "p-" + uid, Namespace: "default", UID: api.UID(uid)},
		Spec: api.PodSpec{
			InitContainers: []api.Container{{Name: "init", Image: "busybox:1"}},
			Containers:     []api.Container{{Name: "app", Image: "busybox:1"}, {Name: "side", Image: "busybox:1"}},
		},
	}
}

func TestRuntimeRunsASyncedPodAtOnce(t *testing.T) {
	ctx := context.Background()
	r := NewRuntime()
	p := testPod("u1")
	st, err := r.PodStatus(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != api.PodPending || st.ContainerStatuses[0].State.Waiting == nil || st.ContainerStatuses[0].State.Waiting.Reason != "ContainerCreating" {
		t.Fatalf("before sync: %+v", st)
	}
	if err := r.SyncPod(ctx, p, "/hollow/netns/x"); err != nil {
		t.Fatal(err)
	}
	st, err = r.PodStatus(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != api.PodRunning || len(st.ContainerStatuses) != 2 || len(st.InitContainerStatuses) != 1 {
		t.Fatalf("after sync: %+v", st)
	}
	for _, cs := range st.ContainerStatuses {
		if cs.State.Running == nil || !cs.Ready || cs.RestartCount != 0 || cs.ContainerID == "" || cs.Image != "busybox:1" {
			t.Fatalf("container %s: %+v", cs.Name, cs)
		}
	}
	if ic := st.InitContainerStatuses[0]; ic.State.Terminated == nil || ic.State.Terminated.ExitCode != 0 || ic.State.Terminated.Reason != "Completed" {
		t.Fatalf("init container: %+v", ic)
	}
	for _, c := range st.Conditions {
		if c.Status != api.ConditionTrue {
			t.Fatalf("condition %s: %s", c.Type, c.Status)
		}
	}
}

func TestRuntimeReplacesAContainerWhoseImageChanged(t *testing.T) {
	ctx := context.Background()
	r := NewRuntime()
	p := testPod("u1")
	if err := r.SyncPod(ctx, p, ""); err != nil {
		t.Fatal(err)
	}
	p.Spec.Containers[0].Image = "busybox:2"
	st, _ := r.PodStatus(ctx, p)
	if st.Phase != api.PodPending || st.ContainerStatuses[0].State.Waiting == nil || st.ContainerStatuses[1].State.Running == nil {
		t.Fatalf("changed image before sync: %+v", st)
	}
	if err := r.SyncPod(ctx, p, ""); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.PodStatus(ctx, p); st.Phase != api.PodRunning || st.ContainerStatuses[0].Image != "busybox:2" {
		t.Fatalf("after sync: %+v", st)
	}
}

func TestRuntimeListsAndRemovesPods(t *testing.T) {
	ctx := context.Background()
	r := NewRuntime()
	for _, uid := range []string{"b", "a"} {
		if err := r.SyncPod(ctx, testPod(uid), ""); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := r.ListPods(ctx); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("list: %v", got)
	}
	if err := r.RemovePod(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := r.RemovePod(ctx, "gone"); err != nil {
		t.Fatalf("removing an unknown pod: %v", err)
	}
	if got, _ := r.ListPods(ctx); !slices.Equal(got, []string{"b"}) || r.Len() != 1 {
		t.Fatalf("after remove: %v", got)
	}
	if err := r.TerminatePod(ctx, testPod("b"), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if r.Len() != 0 {
		t.Fatalf("a terminated pod is still held: %d pods", r.Len())
	}
	if err := r.SyncPod(ctx, &api.Pod{}, ""); err == nil {
		t.Fatal("a pod without a UID was synced")
	}
}

func TestNetworkRefusesOneAddressForTwoPods(t *testing.T) {
	ctx := context.Background()
	n := NewNetwork()
	ip := net.ParseIP("10.244.1.5")
	if _, err := n.SetupPod(ctx, "p1", ip); err != nil {
		t.Fatal(err)
	}
	if _, err := n.SetupPod(ctx, "p1", ip); err != nil {
		t.Fatalf("setting up the same pod again: %v", err)
	}
	if _, err := n.SetupPod(ctx, "p2", ip); err == nil {
		t.Fatal("a second pod got the first one's address")
	}
	if _, err := n.SetupPod(ctx, "p3", net.ParseIP("fd00::1")); err == nil {
		t.Fatal("an IPv6 address was taken")
	}
	if err := n.TeardownPod(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.SetupPod(ctx, "p2", ip); err != nil {
		t.Fatalf("the address after its pod left: %v", err)
	}
	if got, _ := n.ListPods(ctx); !slices.Equal(got, []string{"p2"}) {
		t.Fatalf("list: %v", got)
	}
	_, block, _ := net.ParseCIDR("10.244.2.0/24")
	if err := n.SyncPeerRoutes(ctx, []netplane.Peer{{Block: block, Via: net.ParseIP("127.0.0.2")}}); err != nil {
		t.Fatal(err)
	}
	if p := n.Peers(); len(p) != 1 || p[0].Block.String() != "10.244.2.0/24" {
		t.Fatalf("peers: %+v", p)
	}
}
