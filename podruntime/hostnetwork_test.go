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

// With shareProcessNamespace one container sees the other's processes:
// both are in one PID namespace whose PID 1 is the holder, which outlives
// a container's restart and goes with the pod.
func TestSharedProcessNamespaceLetsContainersSeeEachOther(t *testing.T) {
	r := newTestRuntime(t)
	share := true
	pod := newPod(t, "shared", api.RestartAlways,
		shell("server", imageV1, `exec sleep 4242`),
		shell("watcher", imageV1, `while true; do if ps | grep -q '[s]leep 4242'; then echo saw-server; fi; sleep 0.5; done`))
	pod.Spec.ShareProcessNamespace = &share
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "server", "watcher") })
	waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "watcher"), "saw-server")
	dir := r.sandboxDir(string(pod.ObjectMeta.UID))
	holder := holderPID(dir)
	if !holderAlive(dir) {
		t.Fatalf("holder %d is not alive", holder)
	}
	// PID 1 of the namespace is the holder, as each container sees it.
	out, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", holder))
	if err != nil || !strings.Contains(string(out), "NSpid:\t"+fmt.Sprint(holder)+"\t1\n") {
		t.Fatalf("holder %d is not PID 1 of its namespace: %v\n%s", holder, err, out)
	}
	// A pod without the field keeps its containers apart.
	apart := newPod(t, "apart", api.RestartAlways,
		shell("server", imageV1, `exec sleep 4343`),
		shell("watcher", imageV1, `while true; do if ps | grep -q '[s]leep 4343'; then echo saw-server; else echo alone; fi; sleep 0.5; done`))
	syncUntil(t, r, apart, "", "running", func(st api.PodStatus) bool { return running(st, "server", "watcher") })
	if log := waitLog(t, r.LogPath(string(apart.ObjectMeta.UID), "watcher"), "alone"); strings.Contains(log, "saw-server") {
		t.Fatalf("a pod without shareProcessNamespace shares PIDs:\n%s", log)
	}
	if err := r.RemovePod(context.Background(), string(pod.ObjectMeta.UID)); err != nil {
		t.Fatal(err)
	}
	if isHolder(holder, dir) {
		t.Fatalf("holder %d outlived its pod", holder)
	}
}
