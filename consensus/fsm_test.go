package consensus

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// harness feeds commands through the same path Raft uses: encoded into a
// log entry, decoded and applied at the next index.
type harness struct {
	t   *testing.T
	f   *FSM
	idx uint64
}

func newHarness(t *testing.T) *harness {
	return &harness{t: t, f: NewFSM()}
}

func (h *harness) do(cmd Command) (*Result, error) {
	h.t.Helper()
	data, err := EncodeCommand(cmd)
	if err != nil {
		h.t.Fatalf("encode %s: %v", cmd.Type(), err)
	}
	h.idx++
	out := h.f.Apply(&raft.Log{Index: h.idx, Term: 1, Type: raft.LogCommand, Data: data})
	switch v := out.(type) {
	case *Result:
		return v, nil
	case error:
		return nil, v
	}
	h.t.Fatalf("Apply returned %T", out)
	return nil, nil
}

func (h *harness) must(cmds ...Command) {
	h.t.Helper()
	for _, c := range cmds {
		if _, err := h.do(c); err != nil {
			h.t.Fatalf("%s: %v", c.Type(), err)
		}
	}
}

func (h *harness) stateJSON() string {
	h.t.Helper()
	h.f.mu.RLock()
	defer h.f.mu.RUnlock()
	cp := *h.f.st
	cp.Index = 0
	b, err := json.Marshal(&cp)
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

func node(name, mem, ip string) RegisterNode {
	n := api.Node{}
	n.ObjectMeta.Name = name
	n.ObjectMeta.UID = api.UID("uid-" + name)
	n.Status.Allocatable = api.ResourceList{api.ResourceMemory: resource.MustParse(mem), api.ResourceCPU: resource.MustParse("4")}
	n.Status.Capacity = n.Status.Allocatable
	n.Status.Addresses = []api.NodeAddress{{Type: "InternalIP", Address: ip}}
	return RegisterNode{Node: n, Time: t0}
}

func ready(name string) SetNodeCondition {
	return SetNodeCondition{Name: name, Ready: true, Reason: "AgentReady", Time: t0}
}

// pod returns a pod whose containers request the given memory each.
func pod(name string, mems ...string) api.Pod {
	p := api.Pod{}
	p.ObjectMeta.Name = name
	for i, m := range mems {
		p.Spec.Containers = append(p.Spec.Containers, api.Container{
			Name: "c" + string(rune('0'+i)), Image: "busybox:1.36", Command: []string{"sleep", "3600"},
			Resources: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceMemory: resource.MustParse(m)}},
		})
	}
	return p
}

func create(name string, mems ...string) CreatePod {
	return CreatePod{Pod: pod(name, mems...), UID: api.UID("uid-" + name), Time: t0}
}

func bind(name, nodeName, ip string) BindPod {
	return BindPod{Namespace: "default", Name: name, UID: api.UID("uid-" + name), Node: nodeName, PodIP: ip, Time: t0}
}

func TestApply(t *testing.T) {
	twoNodes := []Command{
		node("node-a", "1280Mi", "192.168.50.2"), ready("node-a"),
		node("node-b", "2Gi", "192.168.50.3"), ready("node-b"),
	}
	withImage := func(img string) ApplyPod {
		p := pod("web", "100Mi")
		p.Spec.Containers[0].Image = img
		return ApplyPod{Pod: p, UID: "uid-web", Time: t0}
	}
	withCommand := ApplyPod{Pod: pod("web", "100Mi"), Time: t0}
	withCommand.Pod.Spec.Containers[0].Command = []string{"sleep", "10"}
	statusFrom := func(nodeName string) UpdatePodStatus {
		return UpdatePodStatus{Namespace: "default", Name: "web", UID: "uid-web", Node: nodeName,
			Status: api.PodStatus{Phase: api.PodRunning, PodIP: "1.2.3.4"}, Time: t0}
	}

	tests := []struct {
		name    string
		setup   []Command
		cmd     Command
		wantErr func(error) bool
		errHas  string
		check   func(t *testing.T, h *harness, res *Result)
	}{
		{
			name:  "two nodes get distinct blocks, lowest first",
			setup: []Command{node("node-a", "1Gi", "192.168.50.2")},
			cmd:   node("node-b", "1Gi", "192.168.50.3"),
			check: func(t *testing.T, h *harness, res *Result) {
				a, _ := h.f.Node("node-a")
				if a.Spec.PodCIDR != "10.244.0.0/24" || res.Node.Spec.PodCIDR != "10.244.1.0/24" {
					t.Fatalf("blocks: a=%s b=%s", a.Spec.PodCIDR, res.Node.Spec.PodCIDR)
				}
			},
		},
		{
			name:  "re-registration keeps the block and updates labels",
			setup: []Command{node("node-a", "1Gi", "192.168.50.2"), node("node-b", "1Gi", "192.168.50.3")},
			cmd: func() Command {
				c := node("node-a", "2Gi", "192.168.50.2")
				c.Node.ObjectMeta.Labels = map[string]string{"disk": "ssd"}
				return c
			}(),
			check: func(t *testing.T, h *harness, res *Result) {
				if res.Created || res.Node.Spec.PodCIDR != "10.244.0.0/24" || res.Node.ObjectMeta.Labels["disk"] != "ssd" {
					t.Fatalf("re-registered node: created=%v cidr=%s labels=%v", res.Created, res.Node.Spec.PodCIDR, res.Node.ObjectMeta.Labels)
				}
				if res.Node.ObjectMeta.ResourceVersion != "3" {
					t.Fatalf("resourceVersion %q, want 3", res.Node.ObjectMeta.ResourceVersion)
				}
			},
		},
		{
			name:  "freed block between two nodes is reused",
			setup: []Command{node("node-a", "1Gi", "192.168.50.2")},
			cmd:   RegisterNode{Node: node("node-x", "1Gi", "192.168.50.9").Node, ClusterCIDR: "10.244.0.0/16", BlockBits: 26, Time: t0},
			check: func(t *testing.T, h *harness, res *Result) {
				// node-a holds 10.244.0.0/24, so the first free /26 is past it.
				if res.Node.Spec.PodCIDR != "10.244.1.0/26" {
					t.Fatalf("block %s, want 10.244.1.0/26", res.Node.Spec.PodCIDR)
				}
			},
		},
		{
			name:  "bind sets node, IP, hostIP and PodScheduled; resourceVersion is the index",
			setup: append(append([]Command{}, twoNodes...), create("web", "100Mi")),
			cmd:   bind("web", "node-b", "10.244.1.7"),
			check: func(t *testing.T, h *harness, res *Result) {
				p := res.Pod
				if p.Spec.NodeName != "node-b" || p.Status.PodIP != "10.244.1.7" || p.Status.HostIP != "192.168.50.3" || !Bound(p) {
					t.Fatalf("bound pod: %+v", p.Status)
				}
				if p.ObjectMeta.ResourceVersion != "6" || res.Index != 6 || h.f.Index() != 6 {
					t.Fatalf("resourceVersion %s index %d state %d, want 6", p.ObjectMeta.ResourceVersion, res.Index, h.f.Index())
				}
				on, _ := h.f.PodsOnNode("node-b")
				if len(on) != 1 || on[0].ObjectMeta.Name != "web" {
					t.Fatalf("PodsOnNode(node-b) = %d pods", len(on))
				}
			},
		},
		{
			name: "bind that no longer fits is rejected and the pod stays pending",
			setup: append(append([]Command{}, twoNodes...),
				create("app", "1Gi"), bind("app", "node-a", "10.244.0.2"),
				create("logs", "512Mi")),
			cmd:     bind("logs", "node-a", "10.244.0.3"),
			wantErr: IsRejected,
			errHas:  "does not fit: node-a: memory 512Mi requested, 256Mi free",
			check: func(t *testing.T, h *harness, _ *Result) {
				p, _ := h.f.Pod("default", "logs")
				if Bound(p) || p.Spec.NodeName != "" || p.Status.PodIP != "" || p.Status.Phase != api.PodPending {
					t.Fatalf("rejected pod changed: node=%q ip=%q phase=%s", p.Spec.NodeName, p.Status.PodIP, p.Status.Phase)
				}
			},
		},
		{
			name: "finished pods do not count against the node",
			setup: append(append([]Command{}, twoNodes...),
				create("app", "1Gi"), bind("app", "node-a", "10.244.0.2"),
				UpdatePodStatus{Namespace: "default", Name: "app", UID: "uid-app", Node: "node-a", Status: api.PodStatus{Phase: api.PodSucceeded}, Time: t0},
				create("logs", "512Mi")),
			cmd: bind("logs", "node-a", "10.244.0.3"),
		},
		{
			name:    "bind to a node that is not ready is rejected",
			setup:   []Command{node("node-a", "1Gi", "192.168.50.2"), create("web", "100Mi")},
			cmd:     bind("web", "node-a", "10.244.0.5"),
			wantErr: IsRejected,
			errHas:  "node-a: node is not ready",
		},
		{
			name:    "IP outside the node's block is rejected",
			setup:   append(append([]Command{}, twoNodes...), create("web", "100Mi")),
			cmd:     bind("web", "node-a", "10.244.1.5"),
			wantErr: IsRejected,
			errHas:  "outside node node-a's block 10.244.0.0/24",
		},
		{
			name:    "the block's network address is rejected",
			setup:   append(append([]Command{}, twoNodes...), create("web", "100Mi")),
			cmd:     bind("web", "node-a", "10.244.0.0"),
			wantErr: IsRejected,
			errHas:  "network address",
		},
		{
			name:    "the block's gateway address is rejected",
			setup:   append(append([]Command{}, twoNodes...), create("web", "100Mi")),
			cmd:     bind("web", "node-a", "10.244.0.1"),
			wantErr: IsRejected,
			errHas:  "gateway address",
		},
		{
			name: "an IP in use by another pod is rejected",
			setup: append(append([]Command{}, twoNodes...),
				create("one", "10Mi"), bind("one", "node-a", "10.244.0.9"), create("web", "10Mi")),
			cmd:     bind("web", "node-a", "10.244.0.9"),
			wantErr: IsRejected,
			errHas:  "in use by pod default/one",
		},
		{
			name: "binding twice is a conflict",
			setup: append(append([]Command{}, twoNodes...),
				create("web", "10Mi"), bind("web", "node-a", "10.244.0.9")),
			cmd:     bind("web", "node-b", "10.244.1.9"),
			wantErr: IsConflict,
			errHas:  "already bound to node node-a",
		},
		{
			name:    "bind with a stale UID is a conflict",
			setup:   append(append([]Command{}, twoNodes...), create("web", "10Mi")),
			cmd:     BindPod{Namespace: "default", Name: "web", UID: "old", Node: "node-a", PodIP: "10.244.0.9", Time: t0},
			wantErr: IsConflict,
		},
		{
			name:    "bind to an unknown node is not found",
			setup:   append(append([]Command{}, twoNodes...), create("web", "10Mi")),
			cmd:     bind("web", "node-z", "10.244.0.9"),
			wantErr: IsNotFound,
		},
		{
			name: "status from a node the pod is not bound to is rejected",
			setup: append(append([]Command{}, twoNodes...),
				create("web", "10Mi"), bind("web", "node-a", "10.244.0.9")),
			cmd:     statusFrom("node-b"),
			wantErr: IsConflict,
			errHas:  "status from node node-b refused: the pod is bound to node node-a",
		},
		{
			name: "status from the bound node is taken, addresses stay the binding's",
			setup: append(append([]Command{}, twoNodes...),
				create("web", "10Mi"), bind("web", "node-a", "10.244.0.9")),
			cmd: statusFrom("node-a"),
			check: func(t *testing.T, h *harness, res *Result) {
				p := res.Pod
				if p.Status.Phase != api.PodRunning || p.Status.PodIP != "10.244.0.9" || p.Status.HostIP != "192.168.50.2" {
					t.Fatalf("status: %+v", p.Status)
				}
				if c := podCondition(p, condPodScheduled); c == nil || c.Status != condTrue {
					t.Fatalf("PodScheduled lost: %+v", p.Status.Conditions)
				}
			},
		},
		{
			name:    "status for an unbound pod is rejected",
			setup:   append(append([]Command{}, twoNodes...), create("web", "10Mi")),
			cmd:     statusFrom("node-a"),
			wantErr: IsConflict,
			errHas:  "not bound to any node",
		},
		{
			name:    "creating a pod whose name is taken is AlreadyExists",
			setup:   []Command{create("web", "10Mi")},
			cmd:     create("web", "20Mi"),
			wantErr: IsAlreadyExists,
		},
		{
			name:    "an invalid pod is Invalid and names the field",
			cmd:     CreatePod{Pod: pod("web"), UID: "u", Time: t0},
			wantErr: IsInvalid,
			errHas:  "spec.containers",
		},
		{
			name:  "apply of a changed image is accepted",
			setup: []Command{withImage("busybox:1.36")},
			cmd:   withImage("busybox:1.37"),
			check: func(t *testing.T, h *harness, res *Result) {
				if !res.Changed || res.Pod.Spec.Containers[0].Image != "busybox:1.37" || res.Pod.ObjectMeta.Generation != 2 {
					t.Fatalf("image update: changed=%v image=%s gen=%d", res.Changed, res.Pod.Spec.Containers[0].Image, res.Pod.ObjectMeta.Generation)
				}
				if res.Pod.ObjectMeta.ResourceVersion != "2" || res.Pod.ObjectMeta.UID != "uid-web" {
					t.Fatalf("rv=%s uid=%s", res.Pod.ObjectMeta.ResourceVersion, res.Pod.ObjectMeta.UID)
				}
			},
		},
		{
			name:    "apply of a changed command is rejected naming the field",
			setup:   []Command{withImage("busybox:1.36")},
			cmd:     withCommand,
			wantErr: IsInvalid,
			errHas:  "spec.containers[0].command",
		},
		{
			name:  "apply of an unchanged manifest changes nothing",
			setup: []Command{withImage("busybox:1.36")},
			cmd:   withImage("busybox:1.36"),
			check: func(t *testing.T, h *harness, res *Result) {
				if res.Changed || res.Pod.ObjectMeta.ResourceVersion != "1" {
					t.Fatalf("unchanged apply: changed=%v rv=%s", res.Changed, res.Pod.ObjectMeta.ResourceVersion)
				}
			},
		},
		{
			name: "apply to a bound pod without nodeName keeps the binding",
			setup: append(append([]Command{}, twoNodes...),
				withImage("busybox:1.36"), bind("web", "node-a", "10.244.0.9")),
			cmd: func() Command {
				c := withImage("busybox:1.36")
				c.Pod.ObjectMeta.Labels = map[string]string{"app": "web"}
				return c
			}(),
			check: func(t *testing.T, h *harness, res *Result) {
				if res.Pod.Spec.NodeName != "node-a" || res.Pod.ObjectMeta.Labels["app"] != "web" || res.Pod.ObjectMeta.Generation != 1 {
					t.Fatalf("label update on bound pod: node=%s labels=%v gen=%d", res.Pod.Spec.NodeName, res.Pod.ObjectMeta.Labels, res.Pod.ObjectMeta.Generation)
				}
			},
		},
		{
			name:    "delete with another UID is a conflict",
			setup:   []Command{create("web", "10Mi")},
			cmd:     DeletePod{Namespace: "default", Name: "web", UID: "someone-else"},
			wantErr: IsConflict,
		},
		{
			name: "delete frees the pod's IP",
			setup: append(append([]Command{}, twoNodes...),
				create("one", "10Mi"), bind("one", "node-a", "10.244.0.2"),
				DeletePod{Namespace: "default", Name: "one"}, create("two", "10Mi")),
			cmd: bind("two", "node-a", "10.244.0.2"),
		},
		{
			name:  "unschedulable records the reasons",
			setup: []Command{create("big", "64Gi")},
			cmd:   SetPodUnschedulable{Namespace: "default", Name: "big", UID: "uid-big", Message: "0/1 nodes fit: node-a: memory 64Gi requested, 1Gi free", Time: t0},
			check: func(t *testing.T, h *harness, res *Result) {
				c := podCondition(res.Pod, condPodScheduled)
				if c == nil || c.Status != condFalse || c.Reason != "Unschedulable" || !strings.Contains(c.Message, "64Gi requested") {
					t.Fatalf("condition: %+v", c)
				}
			},
		},
		{
			name: "a node that turns not ready takes its running pods to Unknown",
			setup: append(append([]Command{}, twoNodes...),
				create("web", "10Mi"), bind("web", "node-a", "10.244.0.9"), statusFrom("node-a")),
			cmd: SetNodeCondition{Name: "node-a", Ready: false, Reason: "NodeUnreachable", Message: "gossip: dead", Time: t0},
			check: func(t *testing.T, h *harness, _ *Result) {
				p, _ := h.f.Pod("default", "web")
				if p.Status.Phase != api.PodUnknown {
					t.Fatalf("phase %s, want Unknown", p.Status.Phase)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.must(tc.setup...)
			before := h.stateJSON()
			res, err := h.do(tc.cmd)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != nil && err == nil:
				t.Fatalf("accepted, want an error")
			case tc.wantErr != nil && !tc.wantErr(err):
				t.Fatalf("error %T %q is of the wrong kind", err, err)
			case tc.wantErr != nil && !strings.Contains(err.Error(), tc.errHas):
				t.Fatalf("error %q does not say %q", err, tc.errHas)
			}
			if err != nil {
				if after := h.stateJSON(); after != before {
					t.Fatalf("rejected command changed the state:\nbefore %s\nafter  %s", before, after)
				}
			}
			if tc.check != nil {
				tc.check(t, h, res)
			}
		})
	}
}

func TestInvalidErrorCarriesFieldErrors(t *testing.T) {
	h := newHarness(t)
	_, err := h.do(CreatePod{Pod: pod("web"), UID: "u", Time: t0})
	fes := api.AsFieldErrors(err)
	if len(fes) == 0 || fes[0].Path != "spec.containers" {
		t.Fatalf("field errors %v from %v", fes, err)
	}
}

func TestReadsReturnCopies(t *testing.T) {
	h := newHarness(t)
	h.must(create("web", "10Mi"))
	p, _ := h.f.Pod("default", "web")
	p.ObjectMeta.Labels = map[string]string{"changed": "yes"}
	p.Spec.Containers[0].Image = "evil"
	again, _ := h.f.Pod("default", "web")
	if again.ObjectMeta.Labels != nil || again.Spec.Containers[0].Image != "busybox:1.36" {
		t.Fatalf("mutating a read changed the state: %+v", again.ObjectMeta)
	}
}

func TestNodeInfosSumBoundPods(t *testing.T) {
	h := newHarness(t)
	h.must(node("node-a", "2Gi", "192.168.50.2"), ready("node-a"),
		create("a", "1Gi", "256Mi"), bind("a", "node-a", "10.244.0.2"), create("b", "1Gi"))
	infos := h.f.NodeInfos()
	if len(infos) != 1 || infos[0].Pods != 1 {
		t.Fatalf("infos %+v", infos)
	}
	want := resource.MustParse("1280Mi")
	if got := api.QuantityOf(infos[0].Requested, api.ResourceMemory); got.Cmp(want) != 0 {
		t.Fatalf("requested memory %s, want %s", got.String(), want.String())
	}
	ip, err := h.f.FreePodIP("node-a")
	if err != nil || ip.String() != "10.244.0.3" {
		t.Fatalf("FreePodIP = %v, %v; want 10.244.0.3", ip, err)
	}
}

func TestWaitIndexWakesOnApply(t *testing.T) {
	h := newHarness(t)
	h.must(create("web", "10Mi"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := make(chan uint64, 1)
	errs := make(chan error, 1)
	go func() {
		idx, err := h.f.WaitIndex(ctx, 1)
		if err != nil {
			errs <- err
			return
		}
		got <- idx
	}()
	h.must(create("two", "10Mi"))
	select {
	case idx := <-got:
		if idx != 2 {
			t.Fatalf("WaitIndex returned %d, want 2", idx)
		}
	case err := <-errs:
		t.Fatal(err)
	}

	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := h.f.WaitIndex(short, 2); err == nil {
		t.Fatal("WaitIndex returned without a newer index")
	}
	if idx, err := h.f.WaitIndex(ctx, 0); err != nil || idx != 2 {
		t.Fatalf("WaitIndex for a past index = %d, %v", idx, err)
	}
}

type memSink struct {
	bytes.Buffer
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { return nil }
func (s *memSink) Close() error  { return nil }

// snapshotRestored is a new machine restored from a snapshot of f.
func snapshotRestored(t *testing.T, f *FSM) *FSM {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatalf("persist: %v", err)
	}
	restored := NewFSM()
	if err := restored.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatalf("restore: %v", err)
	}
	return restored
}

func TestSnapshotRestoreGivesIdenticalState(t *testing.T) {
	h := newHarness(t)
	h.must(node("node-a", "2Gi", "192.168.50.2"), ready("node-a"), node("node-b", "2Gi", "192.168.50.3"),
		create("a", "1Gi"), bind("a", "node-a", "10.244.0.2"),
		UpdatePodStatus{Namespace: "default", Name: "a", UID: "uid-a", Node: "node-a", Status: api.PodStatus{Phase: api.PodRunning, StartTime: api.NewTime(t0)}, Time: t0},
		create("b", "100Mi"))
	restored := snapshotRestored(t, h.f)
	want, _ := json.Marshal(h.f.st)
	got, _ := json.Marshal(restored.st)
	if !bytes.Equal(want, got) {
		t.Fatalf("restored state differs:\nwant %s\ngot  %s", want, got)
	}
	if restored.Index() != h.f.Index() {
		t.Fatalf("index %d, want %d", restored.Index(), h.f.Index())
	}
	// The restored machine must go on deciding as the original does.
	next := bind("b", "node-a", "10.244.0.2")
	_, errA := h.do(next)
	h2 := &harness{t: t, f: restored, idx: h.idx - 1}
	_, errB := h2.do(next)
	if errA == nil || errB == nil || errA.Error() != errB.Error() {
		t.Fatalf("original and restored disagree: %v vs %v", errA, errB)
	}
}
