package podruntime

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/shoal-dev/shoal/api"
)

// A hostNetwork pod's containers run in the namespace SyncPod is given as
// the node's (here one the test made, never the host's), pinned in the
// pod's sandbox; it is named after its node; removing the pod unpins it
// and leaves the node's namespace alone.
func TestHostNetworkPodRunsInTheNodesNamespace(t *testing.T) {
	r := newTestRuntime(t)
	nodeNS := newNetns(t)
	var st unix.Stat_t
	if err := unix.Stat(nodeNS, &st); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("net:[%d]", st.Ino)
	pod := newPod(t, "agent", api.RestartAlways, shell("c", imageV1, `echo "ns=$(readlink /proc/self/ns/net) host=$(hostname)"; sleep 3600`))
	pod.Spec.HostNetwork = true
	pod.Spec.NodeName = "node-7"
	syncUntil(t, r, pod, nodeNS, "running", func(st api.PodStatus) bool { return running(st, "c") })
	out := waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "c"), "host=")
	if !strings.Contains(out, "ns="+want+" host=node-7") {
		t.Fatalf("container saw %q, want ns=%s host=node-7", out, want)
	}
	pinned := r.sandboxNSPath(string(pod.ObjectMeta.UID), "net")
	if !isNSMount(pinned) {
		t.Fatalf("node namespace not pinned at %s", pinned)
	}
	// Syncing again (an agent restart passes the same path) keeps the container.
	before := taskPIDs(t, r, pod)
	if err := r.SyncPod(context.Background(), pod, nodeNS); err != nil {
		t.Fatal(err)
	}
	if after := taskPIDs(t, r, pod); after["c"] != before["c"] {
		t.Fatalf("container restarted by a second sync: pid %d then %d", before["c"], after["c"])
	}
	if err := r.RemovePod(context.Background(), string(pod.ObjectMeta.UID)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pinned); !os.IsNotExist(err) {
		t.Fatalf("pinned namespace left after RemovePod: %v", err)
	}
	if !isNSMount(nodeNS) {
		t.Fatalf("the node's namespace %s is gone", nodeNS)
	}
}
