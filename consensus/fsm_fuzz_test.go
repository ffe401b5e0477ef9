package consensus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
)

// FuzzApply drives the state machine with command sequences built from the
// fuzzer's bytes, over a small universe of nodes, pods and controllers so
// that commands collide often (same names, stale UIDs, taken IPs, full
// nodes). After every entry: Apply did not panic, a rejected command left
// the state exactly as it was, and the state's invariants hold. At the end
// a second machine fed the same log agrees byte for byte, and so does one
// restored from a snapshot. Its seed corpus in testdata/fuzz runs as an
// ordinary test in `make test`.
func FuzzApply(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 1, 2, 2, 0, 0, 1, 5, 0, 0, 0, 0, 7, 0, 1, 0})
	f.Add([]byte{0, 1, 1, 1, 1, 8, 0, 2, 1, 3, 2, 1, 0, 4, 5, 1, 1, 0, 9, 0, 0, 0})
	f.Add([]byte{0, 0, 0, 1, 1, 0, 2, 0, 0, 4, 2, 1, 0, 4, 5, 0, 0, 0, 0, 5, 1, 0, 0, 3, 1, 0, 0, 0, 0, 0})
	f.Add([]byte{8, 0, 0, 2, 3, 10, 0, 0, 0, 200, 9, 0, 0, 1, 12, 0, 3, 13, 4, 1, 2, 3})
	f.Add([]byte{0, 2, 1, 2, 1, 2, 3, 1, 0, 0, 3, 5, 3, 1, 1, 2, 7, 3, 1, 2, 1, 14, 4, 3, 1, 0, 1})
	// A bound pod deleted gracefully, then again with grace 0, then its node lost.
	f.Add([]byte{0, 0, 1, 0, 1, 2, 2, 0, 0, 1, 7, 0, 1, 0, 0, 5, 0, 1, 0, 2, 5, 0, 1, 0, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &cmdGen{data: data}
		log := runFuzzLog(t, g)
		checkReplay(t, log, g.final)
	})
}

// fuzzNodes have fixed resources per name: a node that re-registers says
// the same, so "no node over capacity" is an invariant the binder owns.
var fuzzNodes = []struct {
	name, mem, cpu, pods string
}{
	{"n0", "1Gi", "1", ""},
	{"n1", "2Gi", "2", "3"},
	{"n2", "512Mi", "500m", "1"},
	{"n3", "4Gi", "4", ""},
}

var (
	fuzzNamespaces = []string{"default", "team"}
	fuzzMemories   = []string{"", "64Mi", "256Mi", "512Mi", "1Gi", "3Gi"}
	fuzzPhases     = []string{"", string(api.PodPending), string(api.PodRunning), string(api.PodSucceeded), string(api.PodFailed), string(api.PodUnknown)}
	fuzzImages     = []string{"busybox:1", "busybox:2", "busybox"}
)

// cmdGen reads commands off the fuzzer's bytes; running out of bytes reads
// zeros, and the sequence ends when the bytes do.
type cmdGen struct {
	data  []byte
	pos   int
	next  uint64 // the index the next command is applied at
	final []byte // the state JSON after the last entry
}

func (g *cmdGen) done() bool { return g.pos >= len(g.data) }

func (g *cmdGen) byte() byte {
	if g.pos >= len(g.data) {
		return 0
	}
	b := g.data[g.pos]
	g.pos++
	return b
}

func (g *cmdGen) pick(n int) int { return int(g.byte()) % n }

func (g *cmdGen) time() time.Time { return t0.Add(time.Duration(g.next) * time.Second) }

func fuzzNode(i int) api.Node {
	spec := fuzzNodes[i]
	n := api.Node{}
	n.ObjectMeta.Name = spec.name
	n.ObjectMeta.UID = api.UID("uid-" + spec.name)
	n.Status.Allocatable = api.ResourceList{api.ResourceMemory: resource.MustParse(spec.mem), api.ResourceCPU: resource.MustParse(spec.cpu)}
	if spec.pods != "" {
		n.Status.Allocatable[api.ResourcePods] = resource.MustParse(spec.pods)
	}
	n.Status.Capacity = n.Status.Allocatable
	n.Status.Addresses = []api.NodeAddress{{Type: "InternalIP", Address: fmt.Sprintf("192.168.60.%d", 10+i)}}
	return n
}

func fuzzContainer(g *cmdGen, name string) api.Container {
	c := api.Container{Name: name, Image: fuzzImages[g.pick(len(fuzzImages))]}
	if m := fuzzMemories[g.pick(len(fuzzMemories))]; m != "" {
		c.Resources.Requests = api.ResourceList{api.ResourceMemory: resource.MustParse(m)}
		if g.pick(3) == 0 {
			c.Resources.Requests[api.ResourceCPU] = resource.MustParse("250m")
		}
	}
	return c
}

func fuzzPodSpec(g *cmdGen) api.PodSpec {
	s := api.PodSpec{Containers: []api.Container{fuzzContainer(g, "app")}}
	switch g.pick(4) {
	case 1:
		s.Containers = append(s.Containers, fuzzContainer(g, "side"))
	case 2:
		s.NodeName = fuzzNodes[g.pick(len(fuzzNodes))].name
	case 3:
		s.InitContainers = []api.Container{fuzzContainer(g, "init")}
	}
	return s
}

// uidFor picks the UID a command carries: the stored object's, none, or a
// stale one.
func uidFor(g *cmdGen, stored string) string {
	switch g.pick(4) {
	case 0:
		return ""
	case 1:
		return "uid-stale"
	}
	return stored
}

// newUIDFor picks the UID a create carries: the leader's fresh one, or
// none (which Apply must refuse). The leader's UIDs are unique, so the
// fuzzer never reuses one.
func newUIDFor(g *cmdGen, fresh string) string {
	if g.pick(5) == 0 {
		return ""
	}
	return fresh
}

// podRef names a pod of the universe and its stored UID if it exists.
// Three times in four it is a stored pod, so that short inputs reach deep
// states instead of missing by name.
func podRef(g *cmdGen, st *state) (ns, name, uid string, p *api.Pod) {
	b := g.byte()
	if keys := st.sortedPodKeys(); b%4 != 0 && len(keys) > 0 {
		p = st.Pods[keys[int(b/4)%len(keys)]]
		return p.ObjectMeta.Namespace, p.ObjectMeta.Name, string(p.ObjectMeta.UID), p
	}
	ns = fuzzNamespaces[int(b/4)%len(fuzzNamespaces)]
	name = "p" + strconv.Itoa(g.pick(6))
	if p = st.Pods[api.Key(ns, name)]; p != nil {
		uid = string(p.ObjectMeta.UID)
	}
	return ns, name, uid, p
}

func unboundPods(st *state) []*api.Pod {
	var out []*api.Pod
	for _, k := range st.sortedPodKeys() {
		if p := st.Pods[k]; !Bound(p) {
			out = append(out, p)
		}
	}
	return out
}

func (g *cmdGen) controllerRef(st *state) (kind, ns, name string, obj api.Replicated) {
	kind = api.KindReplicationController
	if g.pick(2) == 1 {
		kind = api.KindReplicaSet
	}
	ns = fuzzNamespaces[g.pick(len(fuzzNamespaces))]
	name = "r" + strconv.Itoa(g.pick(3))
	// controller returns a typed nil when the name is free: make it nil.
	if o, ok := st.controller(kind, ns, name); ok {
		obj = o
	}
	return kind, ns, name, obj
}

func (g *cmdGen) ownerRefs(st *state) []api.OwnerReference {
	switch g.pick(3) {
	case 1:
		if _, _, _, obj := g.controllerRef(st); obj != nil {
			return []api.OwnerReference{api.NewControllerRef(obj)}
		}
	case 2:
		yes := true
		return []api.OwnerReference{{APIVersion: "v1", Kind: api.KindReplicationController, Name: "gone", UID: "uid-gone", Controller: &yes}}
	}
	return nil
}

// command builds the next command from the bytes. It may look at the state
// to aim at existing objects, as the leader does; raw is set instead for a
// log entry this binary cannot read.
func (g *cmdGen) command(st *state) (cmd Command, raw []byte) {
	now := g.time()
	uid := "uid-" + strconv.FormatUint(g.next, 10)
	switch g.pick(14) {
	case 0:
		n := fuzzNode(g.pick(len(fuzzNodes)))
		if g.pick(3) != 0 {
			// As an agent does once it runs: it reports itself ready.
			n.Status.Conditions = []api.NodeCondition{{Type: condReady, Status: condTrue, Reason: "AgentReady"}}
		}
		return RegisterNode{Node: n, Time: now}, nil
	case 1:
		return SetNodeCondition{Name: fuzzNodes[g.pick(len(fuzzNodes))].name, Ready: g.pick(3) != 0, Reason: "Fuzz", Message: "fuzz", Time: now}, nil
	case 2, 3:
		ns, name, _, _ := podRef(g, st)
		p := api.Pod{Spec: fuzzPodSpec(g)}
		p.ObjectMeta.Namespace, p.ObjectMeta.Name = ns, name
		p.ObjectMeta.Labels = map[string]string{"app": "r" + strconv.Itoa(g.pick(3))}
		p.ObjectMeta.OwnerReferences = g.ownerRefs(st)
		if g.pick(2) == 0 {
			return CreatePod{Pod: p, UID: api.UID(newUIDFor(g, uid)), Time: now}, nil
		}
		return ApplyPod{Pod: p, UID: api.UID(newUIDFor(g, uid)), Time: now}, nil
	case 4:
		// An update of a stored pod: its own manifest with a new image or
		// labels, or a stale resourceVersion.
		ns, name, _, old := podRef(g, st)
		if old == nil {
			return DeletePod{Namespace: ns, Name: name}, nil
		}
		p := copyPod(old)
		p.Status = api.PodStatus{}
		p.Spec.Containers[0].Image = fuzzImages[g.pick(len(fuzzImages))]
		switch g.pick(4) {
		case 0:
			p.ObjectMeta.Labels = map[string]string{"app": "moved"}
		case 1:
			p.ObjectMeta.ResourceVersion = "1"
		case 2:
			p.Spec.Containers[0].Resources.Requests = api.ResourceList{api.ResourceMemory: resource.MustParse("3Gi")}
		}
		return ApplyPod{Pod: *p, Time: now}, nil
	case 5:
		ns, name, stored, p := podRef(g, st)
		if p != nil && Bound(p) && g.pick(2) == 0 {
			// The API's graceful delete: Terminating, or at once.
			var grace *int64
			if v := int64(g.pick(3)) - 1; v != 1 {
				grace = &v
			}
			return DeleteObject{Kind: KindPod, Namespace: ns, Name: name, UID: api.UID(uidFor(g, stored)), Graceful: true, GracePeriodSeconds: grace, Time: now}, nil
		}
		return DeletePod{Namespace: ns, Name: name, UID: api.UID(uidFor(g, stored))}, nil
	case 6, 7:
		ns, name, stored, p := podRef(g, st)
		if pending := unboundPods(st); len(pending) > 0 && g.pick(2) == 0 {
			p = pending[g.pick(len(pending))]
			ns, name, stored = p.ObjectMeta.Namespace, p.ObjectMeta.Name, string(p.ObjectMeta.UID)
		}
		nodeName := fuzzNodes[g.pick(len(fuzzNodes))].name
		if names := st.sortedNodeNames(); len(names) > 0 && g.pick(4) != 0 {
			nodeName = names[g.pick(len(names))]
		}
		if p != nil && p.Spec.NodeName != "" && g.pick(4) != 0 {
			nodeName = p.Spec.NodeName
		}
		var ip string
		switch g.pick(4) {
		case 0, 1:
			if free, err := st.freePodIP(nodeName); err == nil {
				ip = free.String()
			}
		case 2:
			// Someone else's address, to try a double binding.
			for _, k := range st.sortedPodKeys() {
				if a := st.Pods[k].Status.PodIP; a != "" {
					ip = a
				}
			}
		case 3:
			if n := st.Nodes[nodeName]; n != nil {
				if block, err := netip.ParsePrefix(n.Spec.PodCIDR); err == nil {
					b := block.Addr().As4()
					b[3] = g.byte()
					ip = netip.AddrFrom4(b).String()
				}
			}
		}
		u := stored
		if g.pick(5) == 0 {
			u = "uid-stale"
		}
		return BindPod{Namespace: ns, Name: name, UID: api.UID(u), Node: nodeName, PodIP: ip, Time: now}, nil
	case 8:
		ns, name, stored, _ := podRef(g, st)
		return SetPodUnschedulable{Namespace: ns, Name: name, UID: api.UID(stored), Message: "0/4 nodes fit " + strconv.Itoa(g.pick(2)), Time: now}, nil
	case 9:
		ns, name, stored, p := podRef(g, st)
		nodeName := fuzzNodes[g.pick(len(fuzzNodes))].name
		if p != nil && g.pick(3) != 0 {
			nodeName = p.Spec.NodeName
		}
		status := api.PodStatus{Phase: api.PodPhase(fuzzPhases[g.pick(len(fuzzPhases))]), PodIP: "10.9.9.9",
			Conditions: []api.PodCondition{{Type: condPodScheduled, Status: condFalse}, {Type: condReady, Status: condTrue}}}
		return UpdatePodStatus{Namespace: ns, Name: name, UID: api.UID(stored), Node: nodeName, Status: status, Time: now}, nil
	case 10:
		kind, ns, name, _ := g.controllerRef(st)
		replicas := int32(g.pick(5)) - 1
		app := "r" + strconv.Itoa(g.pick(3))
		tmpl := &api.PodTemplateSpec{Spec: fuzzPodSpec(g)}
		tmpl.Spec.NodeName = ""
		tmpl.ObjectMeta.Labels = map[string]string{"app": app}
		c := ApplyController{Create: g.pick(2) == 0, UID: api.UID(newUIDFor(g, uid)), Time: now}
		if kind == api.KindReplicationController {
			rc := &api.ReplicationController{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: kind}}
			rc.ObjectMeta.Namespace, rc.ObjectMeta.Name = ns, name
			rc.Spec.Replicas, rc.Spec.Selector, rc.Spec.Template = &replicas, map[string]string{"app": app}, tmpl.DeepCopy()
			c.RC = rc
		} else {
			rs := &api.ReplicaSet{TypeMeta: api.TypeMeta{APIVersion: api.AppsV1, Kind: kind}}
			rs.ObjectMeta.Namespace, rs.ObjectMeta.Name = ns, name
			rs.Spec.Replicas, rs.Spec.Selector, rs.Spec.Template = &replicas, &api.LabelSelector{MatchLabels: map[string]string{"app": app}}, *tmpl
			c.RS = rs
		}
		return c, nil
	case 11:
		kind, ns, name, obj := g.controllerRef(st)
		switch g.pick(3) {
		case 0:
			stored := ""
			if obj != nil {
				stored = string(api.MetaOf(obj).UID)
			}
			return DeleteController{Kind: kind, Namespace: ns, Name: name, UID: api.UID(uidFor(g, stored)), Orphan: g.pick(2) == 0}, nil
		case 1:
			rv := ""
			if obj != nil && g.pick(2) == 0 {
				rv = api.MetaOf(obj).ResourceVersion
			} else if g.pick(2) == 0 {
				rv = "1"
			}
			return ScaleController{Kind: kind, Namespace: ns, Name: name, Replicas: int32(g.pick(6)) - 1, ResourceVersion: rv}, nil
		default:
			stored := ""
			if obj != nil {
				stored = string(api.MetaOf(obj).UID)
			}
			n := int32(g.pick(4))
			return UpdateControllerStatus{Kind: kind, Namespace: ns, Name: name, UID: api.UID(stored),
				Status: api.ReplicaCounts{Replicas: n, ReadyReplicas: n, ObservedGeneration: int64(g.pick(3))}}, nil
		}
	case 12:
		var evs []api.Event
		for i := g.pick(4); i >= 0; i-- {
			ns, name, stored, _ := podRef(g, st)
			e := api.Event{InvolvedObject: api.ObjectReference{Kind: "Pod", Namespace: ns, Name: name, UID: api.UID(stored)},
				Reason: []string{"Scheduled", "Pulled", "", "BackOff"}[g.pick(4)], Message: "m" + strconv.Itoa(g.pick(3)),
				Type: []string{api.EventNormal, api.EventWarning, "Odd"}[g.pick(3)], Count: int32(g.pick(3)) - 1,
				Source: api.EventSource{Component: "shoal"}}
			if g.pick(6) != 0 {
				e.LastTimestamp = api.TimeOf(now)
			}
			evs = append(evs, e)
		}
		return RecordEvents{Events: evs}, nil
	}
	// A log entry this binary cannot read: some of the remaining bytes.
	n := g.pick(16)
	end := min(g.pos+n, len(g.data))
	raw = append([]byte(nil), g.data[g.pos:end]...)
	g.pos = end
	return nil, raw
}

// runFuzzLog applies commands until the bytes run out and returns the log.
func runFuzzLog(t *testing.T, g *cmdGen) [][]byte {
	f := NewFSM()
	var entries [][]byte
	for i := 0; !g.done() && i < 200; i++ {
		g.next = uint64(len(entries) + 1)
		cmd, data := g.command(f.st)
		if cmd != nil {
			var err error
			if data, err = EncodeCommand(cmd); err != nil {
				t.Fatalf("encode %s: %v", cmd.Type(), err)
			}
		}
		entries = append(entries, data)
		before := stateJSONAt(t, f, 0)
		out := f.Apply(&raft.Log{Index: g.next, Term: 1, Type: raft.LogCommand, Data: data})
		if f.Index() != g.next {
			t.Fatalf("entry %d: index is %d after Apply", g.next, f.Index())
		}
		switch v := out.(type) {
		case *Result:
			if v.Index != g.next {
				t.Fatalf("entry %d: result index %d", g.next, v.Index)
			}
			checkResultIsStored(t, f.st, cmd, v)
			if !v.Changed {
				if after := stateJSONAt(t, f, 0); after != before {
					t.Fatalf("entry %d (%s) answered unchanged but changed the state:\nbefore %s\nafter  %s", g.next, data, before, after)
				}
			}
		case error:
			if v.Error() == "" {
				t.Fatalf("entry %d: rejected with an empty error", g.next)
			}
			if after := stateJSONAt(t, f, 0); after != before {
				t.Fatalf("entry %d (%s) was rejected (%v) but changed the state:\nbefore %s\nafter  %s", g.next, data, v, before, after)
			}
		default:
			t.Fatalf("entry %d: Apply returned %T", g.next, out)
		}
		// The leader reads NodeInfos between entries; reading keeps its
		// cached list current, so checkInvariants checks it is kept so.
		f.NodeInfos()
		if err := checkInvariants(f.st, true); err != nil {
			t.Fatalf("after entry %d (%s): %v", g.next, data, err)
		}
		if dc, ok := cmd.(DeleteController); ok {
			if _, isErr := out.(error); !isErr {
				checkNoOwnerRef(t, f.st, api.MetaOf(out.(*Result).Controller).UID, dc)
			}
		}
	}
	g.final = []byte(stateJSONAt(t, f, f.Index()))
	return entries
}

// checkResultIsStored: what an accepted command answers (and the API hands
// back to the writer) is what the state now holds.
func checkResultIsStored(t *testing.T, st *state, cmd Command, res *Result) {
	t.Helper()
	same := func(what string, answered, stored any) {
		a, _ := json.Marshal(answered)
		b, _ := json.Marshal(stored)
		if !bytes.Equal(a, b) {
			t.Fatalf("%T answered %s\n%s\nbut the state holds\n%s", cmd, what, a, b)
		}
	}
	if res.Pod != nil {
		stored, ok := st.Pods[api.KeyOf(res.Pod)]
		if !ok {
			t.Fatalf("%T answered pod %s, which is not stored", cmd, api.KeyOf(res.Pod))
		}
		same("pod "+api.KeyOf(res.Pod), res.Pod, stored)
	}
	if res.Node != nil {
		same("node "+res.Node.ObjectMeta.Name, res.Node, st.Nodes[res.Node.ObjectMeta.Name])
	}
	stored := func(what string, answered api.Object, m map[string]any, deleted bool) {
		obj, ok := m[api.KeyOf(answered)]
		switch {
		case deleted && ok:
			t.Fatalf("%T deleted %s %s, which is still stored", cmd, what, api.KeyOf(answered))
		case !deleted && !ok:
			t.Fatalf("%T answered %s %s, which is not stored", cmd, what, api.KeyOf(answered))
		case !deleted:
			same(what+" "+api.KeyOf(answered), answered, obj)
		}
	}
	switch c := asPointer(cmd).(type) {
	case *ApplyService, *DeleteService:
		_, deleted := c.(*DeleteService)
		stored("Service", res.Service, anyMap(st.Services), deleted)
	case *PutEndpoints, *DeleteEndpoints:
		_, deleted := c.(*DeleteEndpoints)
		stored("Endpoints", res.Endpoints, anyMap(st.Endpoints), deleted)
	case *PutEndpointSlice, *DeleteEndpointSlice:
		_, deleted := c.(*DeleteEndpointSlice)
		stored("EndpointSlice", res.EndpointSlice, anyMap(st.EndpointSlices), deleted)
	}
	if res.Controller != nil {
		m := api.MetaOf(res.Controller)
		stored, ok := st.controller(api.TypeMetaOf(res.Controller).Kind, m.Namespace, m.Name)
		if _, deleted := asPointer(cmd).(*DeleteController); deleted {
			if ok {
				t.Fatalf("deleted controller %s/%s is still stored", m.Namespace, m.Name)
			}
			return
		}
		if !ok {
			t.Fatalf("%T answered controller %s/%s, which is not stored", cmd, m.Namespace, m.Name)
		}
		same("controller "+m.Name, res.Controller, stored)
	}
}

func anyMap[V any](m map[string]V) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// checkReplay: a second machine fed the same log ends in the same state
// (Apply is deterministic), and so does one restored from its snapshot.
func checkReplay(t *testing.T, entries [][]byte, want []byte) {
	f := NewFSM()
	for i, data := range entries {
		f.Apply(&raft.Log{Index: uint64(i + 1), Term: 1, Type: raft.LogCommand, Data: data})
	}
	if got := stateJSONAt(t, f, f.Index()); got != string(want) {
		t.Fatalf("replaying the log gives another state:\nfirst  %s\nreplay %s", want, got)
	}
	restored := snapshotRestored(t, f)
	if got := stateJSONAt(t, restored, restored.Index()); got != string(want) {
		t.Fatalf("snapshot + restore gives another state:\nbefore %s\nafter  %s", want, got)
	}
	restored.NodeInfos()
	if err := checkInvariants(restored.st, true); err != nil {
		t.Fatalf("restored state: %v", err)
	}
}

// stateJSONAt is the state as JSON with its index replaced, so that "the
// same state" can ignore the index a rejected entry still moves.
func stateJSONAt(t *testing.T, f *FSM, index uint64) string {
	t.Helper()
	f.mu.RLock()
	defer f.mu.RUnlock()
	cp := *f.st
	cp.Index = index
	b, err := json.Marshal(&cp)
	if err != nil {
		t.Fatalf("marshal state: %v", err)
	}
	return string(b)
}

func checkNoOwnerRef(t *testing.T, st *state, uid api.UID, c DeleteController) {
	t.Helper()
	for _, k := range st.sortedPodKeys() {
		for _, ref := range st.Pods[k].ObjectMeta.OwnerReferences {
			if ref.UID == uid && ref.Controller != nil && *ref.Controller {
				t.Fatalf("pod %s still names deleted %s %s/%s (uid %s) as its controller (orphan=%v)", k, c.Kind, c.Namespace, c.Name, uid, c.Orphan)
			}
		}
	}
}

// checkInvariants is what must hold of any state the log can reach. With
// fixedCapacity, nodes never re-register with less than they had, so no
// node may hold more than its allocatable.
func checkInvariants(st *state, fixedCapacity bool) error {
	idx := st.Index
	checkRV := func(what, v string) error {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 || n > idx {
			return fmt.Errorf("%s: resourceVersion %q is not an index in 1..%d", what, v, idx)
		}
		return nil
	}
	var blocks []netip.Prefix
	for _, name := range st.sortedNodeNames() {
		n := st.Nodes[name]
		if n.ObjectMeta.Name != name {
			return fmt.Errorf("node stored as %s is named %s", name, n.ObjectMeta.Name)
		}
		if err := checkRV("node "+name, n.ObjectMeta.ResourceVersion); err != nil {
			return err
		}
		b, err := netip.ParsePrefix(n.Spec.PodCIDR)
		if err != nil {
			return fmt.Errorf("node %s: podCIDR %q: %v", name, n.Spec.PodCIDR, err)
		}
		for _, o := range blocks {
			if o.Overlaps(b) {
				return fmt.Errorf("node %s: podCIDR %s overlaps %s", name, b, o)
			}
		}
		blocks = append(blocks, b)
	}
	ips := map[string]string{}
	for _, key := range st.sortedPodKeys() {
		p := st.Pods[key]
		if api.KeyOf(p) != key {
			return fmt.Errorf("pod stored as %s is %s", key, api.KeyOf(p))
		}
		if err := api.ValidatePod(p); err != nil {
			return fmt.Errorf("stored pod %s does not validate: %v", key, err)
		}
		if p.ObjectMeta.UID == "" {
			return fmt.Errorf("pod %s has no UID", key)
		}
		if err := checkRV("pod "+key, p.ObjectMeta.ResourceVersion); err != nil {
			return err
		}
		if p.Status.PodIP != "" {
			if other, dup := ips[p.Status.PodIP]; dup {
				return fmt.Errorf("pod IP %s held by %s and %s", p.Status.PodIP, other, key)
			}
			ips[p.Status.PodIP] = key
		}
		if Terminating(p) && (!Bound(p) || p.ObjectMeta.DeletionGracePeriodSeconds == nil || *p.ObjectMeta.DeletionGracePeriodSeconds <= 0) {
			return fmt.Errorf("terminating pod %s is not bound or has no grace left (grace %v)", key, p.ObjectMeta.DeletionGracePeriodSeconds)
		}
		if !Bound(p) {
			if p.Status.PodIP != "" {
				return fmt.Errorf("unbound pod %s holds IP %s", key, p.Status.PodIP)
			}
			continue
		}
		n, ok := st.Nodes[p.Spec.NodeName]
		if !ok {
			return fmt.Errorf("pod %s is bound to node %s, which does not exist", key, p.Spec.NodeName)
		}
		ip, err := netip.ParseAddr(p.Status.PodIP)
		block, _ := netip.ParsePrefix(n.Spec.PodCIDR)
		if err != nil || !block.Contains(ip) || reservedInBlock(block, ip) != "" || ip == lastAddr(block) {
			return fmt.Errorf("pod %s holds IP %q, not a pod address of node %s's block %s", key, p.Status.PodIP, n.ObjectMeta.Name, block)
		}
	}
	for _, name := range st.sortedNodeNames() {
		info := st.nodeInfo(name)
		alloc := info.Node.Status.Allocatable
		if !fixedCapacity {
			alloc = nil
		}
		if maxPods, ok := alloc[api.ResourcePods]; ok && int64(info.Pods) > maxPods.Value() {
			return fmt.Errorf("node %s runs %d pods, allocatable %s", name, info.Pods, maxPods.String())
		}
		for _, res := range []string{string(api.ResourceMemory), string(api.ResourceCPU)} {
			have, ok := alloc[api.ResourceName(res)]
			if !ok {
				continue
			}
			if want := info.Requested[api.ResourceName(res)]; want.Cmp(have) > 0 {
				return fmt.Errorf("node %s over capacity: %s %s requested, %s allocatable", name, res, want.String(), have.String())
			}
		}
		if got := sumRequests(st, name); !equalLists(got, info.Requested) {
			return fmt.Errorf("node %s: placement sees %v requested, the bound pods sum to %v", name, info.Requested, got)
		}
	}
	for _, obj := range st.sortedControllers("") {
		m := api.MetaOf(obj)
		what := api.TypeMetaOf(obj).Kind + " " + api.Key(m.Namespace, m.Name)
		if err := api.ValidateReplicated(obj); err != nil {
			return fmt.Errorf("stored %s does not validate: %v", what, err)
		}
		if err := checkRV(what, m.ResourceVersion); err != nil {
			return err
		}
		if m.UID == "" {
			return fmt.Errorf("%s has no UID", what)
		}
	}
	// A pod's controller reference names a controller by UID; when that
	// controller is stored, the reference names it rightly.
	byUID := map[string]api.Replicated{}
	for _, obj := range st.sortedControllers("") {
		if other, dup := byUID[string(api.MetaOf(obj).UID)]; dup {
			return fmt.Errorf("controllers %s and %s share UID %s", api.MetaOf(other).Name, api.MetaOf(obj).Name, api.MetaOf(obj).UID)
		}
		byUID[string(api.MetaOf(obj).UID)] = obj
	}
	for _, key := range st.sortedPodKeys() {
		p := st.Pods[key]
		ref := api.ControllerOf(p)
		if ref == nil {
			continue
		}
		if obj, ok := byUID[string(ref.UID)]; ok {
			m := api.MetaOf(obj)
			if ref.Kind != api.TypeMetaOf(obj).Kind || ref.Name != m.Name {
				return fmt.Errorf("pod %s names controller %s %s (uid %s), stored as %s %s/%s", key, ref.Kind, ref.Name, ref.UID, api.TypeMetaOf(obj).Kind, m.Namespace, m.Name)
			}
		}
	}
	if err := checkIndexes(st); err != nil {
		return fmt.Errorf("indexes: %w", err)
	}
	if err := checkServices(st); err != nil {
		return err
	}
	if st.Events != nil {
		if len(st.Events.Items) > MaxEvents {
			return fmt.Errorf("%d events stored, at most %d", len(st.Events.Items), MaxEvents)
		}
		per := map[string]int{}
		for _, e := range st.Events.Items {
			if per[objectKey(e)]++; per[objectKey(e)] > MaxEventsPerObject {
				return fmt.Errorf("more than %d events about %s", MaxEventsPerObject, objectKey(e))
			}
			if e.Count < 1 {
				return fmt.Errorf("event %s has count %d", e.ObjectMeta.Name, e.Count)
			}
		}
	}
	return nil
}

// sumRequests adds up the requests of the pods bound to a node that have
// not finished, independently of nodeInfo: the app containers run together,
// the init containers one at a time before them.
func sumRequests(st *state, node string) api.ResourceList {
	out := api.ResourceList{}
	for _, p := range st.Pods {
		if p.Spec.NodeName != node || !Bound(p) || Terminal(p) {
			continue
		}
		for _, res := range []string{string(api.ResourceMemory), string(api.ResourceCPU)} {
			var need resource.Quantity
			for _, c := range p.Spec.Containers {
				need.Add(c.Resources.Requests[api.ResourceName(res)])
			}
			for _, c := range p.Spec.InitContainers {
				if q := c.Resources.Requests[api.ResourceName(res)]; q.Cmp(need) > 0 {
					need = q.DeepCopy()
				}
			}
			sum := out[api.ResourceName(res)]
			sum.Add(need)
			out[api.ResourceName(res)] = sum
		}
	}
	return out
}

func equalLists(a, b api.ResourceList) bool {
	for _, k := range []string{string(api.ResourceMemory), string(api.ResourceCPU)} {
		x, y := a[api.ResourceName(k)], b[api.ResourceName(k)]
		if x.Cmp(y) != 0 {
			return false
		}
	}
	return true
}

// FuzzApplyEntry applies log entries the fuzzer writes itself (up to four,
// separated by NUL bytes; the seeds are one well-formed entry of every
// command type) to a state holding nodes, bound pods and a controller: any
// payload, however odd, is accepted or refused without a panic, a refusal
// changes nothing, and the invariants hold (but capacity: a node may
// re-register smaller than what it runs).
func FuzzApplyEntry(f *testing.F) {
	for _, c := range entrySeeds() {
		data, err := EncodeCommand(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"type":"BindPod","body":{"namespace":"default","name":"pending","uid":"uid-pending","node":"a","podIP":"10.244.0.255"}}`))
	f.Add([]byte(`{"type":"RegisterNode","body":{"node":{"metadata":{"name":"c"}},"clusterCIDR":"0.0.0.0/0","blockBits":30}}`))
	f.Add([]byte(`{"type":"ScaleController","body":{"kind":"ReplicationController","namespace":"default","name":"web","replicas":-2147483648}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h := newHarness(t)
		h.must(entrySetup()...)
		for _, entry := range bytes.SplitN(data, []byte{0}, 4) {
			before := h.stateJSON()
			h.idx++
			out := h.f.Apply(&raft.Log{Index: h.idx, Term: 1, Type: raft.LogCommand, Data: entry})
			switch v := out.(type) {
			case *Result:
				cmd, _ := DecodeCommand(entry)
				checkResultIsStored(t, h.f.st, cmd, v)
			case error:
				if after := h.stateJSON(); after != before {
					t.Fatalf("entry %s was refused (%v) but changed the state:\nbefore %s\nafter  %s", entry, v, before, after)
				}
			default:
				t.Fatalf("Apply returned %T", out)
			}
			h.f.NodeInfos()
			if err := checkInvariants(h.f.st, false); err != nil {
				t.Fatalf("after entry %s: %v", entry, err)
			}
		}
		checkReplayState(t, h)
	})
}

// checkReplayState: a snapshot of h's machine restores to the same state.
func checkReplayState(t *testing.T, h *harness) {
	restored := snapshotRestored(t, h.f)
	if got, want := stateJSONAt(t, restored, 0), stateJSONAt(t, h.f, 0); got != want {
		t.Fatalf("snapshot + restore gives another state:\nbefore %s\nafter  %s", want, got)
	}
	restored.NodeInfos()
	if err := checkIndexes(restored.st); err != nil {
		t.Fatalf("restored state: %v", err)
	}
}

func entrySetup() []Command {
	rc := &api.ReplicationController{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: api.KindReplicationController}}
	rc.ObjectMeta.Name = "web"
	replicas := int32(2)
	rc.Spec.Replicas, rc.Spec.Selector = &replicas, map[string]string{"app": "web"}
	rc.Spec.Template = &api.PodTemplateSpec{Spec: pod("x", "100Mi").Spec}
	rc.Spec.Template.ObjectMeta.Labels = map[string]string{"app": "web"}
	owned := create("owned", "100Mi")
	owned.Pod.ObjectMeta.Labels = map[string]string{"app": "web"}
	ownerRC := *rc
	ownerRC.ObjectMeta.UID = "uid-web"
	owned.Pod.ObjectMeta.OwnerReferences = []api.OwnerReference{api.NewControllerRef(&ownerRC)}
	return []Command{
		createService(nodePortService("svc", 80)),
		PutEndpoints{Endpoints: endpointsFor("svc", "10.244.0.2"), ServiceUID: "uid-svc", UID: "uid-ep", Time: t0},
		PutEndpointSlice{Slice: sliceFor("svc", "svc-1", "10.244.0.2"), ServiceUID: "uid-svc", UID: "uid-es", Time: t0},
		node("a", "1Gi", "192.168.50.2"), ready("a"), node("b", "2Gi", "192.168.50.3"), ready("b"),
		ApplyController{RC: rc, Create: true, UID: "uid-web", Time: t0},
		owned, bind("owned", "a", "10.244.0.2"),
		create("bare", "512Mi"), bind("bare", "b", "10.244.1.2"),
		create("pending", "100Mi"),
	}
}

func entrySeeds() []Command {
	running := api.PodStatus{Phase: api.PodRunning, Conditions: []api.PodCondition{{Type: condReady, Status: condTrue}}}
	yes := true
	return []Command{
		node("c", "1Gi", "192.168.50.4"),
		SetNodeCondition{Name: "a", Ready: false, Reason: "NodeLost", Time: t0},
		create("new", "64Mi"),
		ApplyPod{Pod: pod("bare", "512Mi"), Time: t0},
		DeletePod{Namespace: "default", Name: "bare", UID: "uid-bare"},
		DeleteObject{Kind: KindPod, Namespace: "default", Name: "bare", Graceful: true, Time: t0},
		bind("pending", "a", "10.244.0.3"),
		BindPods{Binds: []BindPod{bind("pending", "a", "10.244.0.3"), bind("new", "b", "10.244.1.3"), bind("owned", "b", "10.244.1.4")}},
		CreatePods{Pods: []CreatePod{create("new2", "64Mi"), create("new", "64Mi"), create("new3", "9Gi")}},
		SetPodUnschedulable{Namespace: "default", Name: "pending", UID: "uid-pending", Message: "0/2 nodes", Time: t0},
		UpdatePodStatus{Namespace: "default", Name: "owned", UID: "uid-owned", Node: "a", Status: running, Time: t0},
		ScaleController{Kind: api.KindReplicationController, Namespace: "default", Name: "web", Replicas: 5},
		DeleteController{Kind: api.KindReplicationController, Namespace: "default", Name: "web", Orphan: true},
		UpdateControllerStatus{Kind: api.KindReplicationController, Namespace: "default", Name: "web", UID: "uid-web", Status: api.ReplicaCounts{Replicas: 1}},
		RecordEvents{Events: []api.Event{{InvolvedObject: api.ObjectReference{Kind: "Pod", Namespace: "default", Name: "owned", UID: "uid-owned"},
			Reason: "Started", Type: api.EventNormal, LastTimestamp: api.TimeOf(t0), Source: api.EventSource{Component: "kubelet", Host: "a"}}}},
		ApplyEvent{Event: api.Event{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: "owned.1"},
			InvolvedObject: api.ObjectReference{Kind: "Pod", Namespace: "default", Name: "owned"}, Reason: "Custom", Type: api.EventNormal}, Create: true, UID: "uid-ev", Time: t0},
		DeleteEvent{Namespace: "default", Name: "owned.1"},
		createService(withClusterIP(service("dns", 53), "10.96.0.10")),
		ApplyService{Service: withClusterIP(service("svc", 80), "10.96.0.10"), Time: t0},
		DeleteService{Namespace: "default", Name: "svc", UID: "uid-svc"},
		PutEndpoints{Endpoints: endpointsFor("svc", "10.244.1.2"), ServiceUID: "uid-svc", Time: t0},
		DeleteEndpoints{Namespace: "default", Name: "svc"},
		PutEndpointSlice{Slice: sliceFor("svc", "svc-2", "10.244.1.2"), ServiceUID: "uid-svc", UID: "uid-es2", Time: t0},
		DeleteEndpointSlice{Namespace: "default", Name: "svc-1"},
		ApplyPod{Pod: api.Pod{ObjectMeta: api.ObjectMeta{Name: "pending", OwnerReferences: []api.OwnerReference{{Kind: "ReplicationController", Name: "web", UID: "uid-web", Controller: &yes}}},
			Spec: pod("x", "100Mi").Spec}, Time: t0},
		UpdateNode{Node: api.Node{ObjectMeta: api.ObjectMeta{Name: "a", Labels: map[string]string{"disk": "ssd"}},
			Spec: api.NodeSpec{Unschedulable: true, Taints: []api.Taint{{Key: "k", Effect: api.TaintNoExecute}}}}, Time: t0},
		ApplyLease{Lease: lease("lock", "a"), Create: true, UID: "uid-lock", Time: t0},
		DeleteLease{Namespace: "default", Name: "lock"},
		RenewNodeLeases{Nodes: []string{"a", "b", "gone"}, Time: t0},
		ApplyJob{Job: job("j"), Create: true, UID: "uid-j", Time: t0},
		UpdateJobStatus{Namespace: "default", Name: "j", UID: "uid-j", Status: api.JobStatus{Active: 1}},
		DeleteJob{Namespace: "default", Name: "j", Orphan: true},
		ApplyCronJob{CronJob: cronJob("tick", "@hourly"), Create: true, UID: "uid-tick", Time: t0},
		UpdateCronJobStatus{Namespace: "default", Name: "tick", UID: "uid-tick", Status: api.CronJobStatus{LastScheduleTime: ptr(api.TimeOf(t0))}},
		DeleteCronJob{Namespace: "default", Name: "tick"},
		ApplyDaemonSet{DaemonSet: *testDaemonSet("agent"), Create: true, UID: "uid-ds", Time: t0},
		UpdateDaemonSetStatus{Namespace: "default", Name: "agent", UID: "uid-ds", Status: api.DaemonSetStatus{DesiredNumberScheduled: 2}},
		DeleteDaemonSet{Namespace: "default", Name: "agent", Orphan: true},
		PutControllerRevision{Revision: api.ControllerRevision{ObjectMeta: api.ObjectMeta{Name: "agent-1"}, Revision: 1}, UID: "uid-cr", Time: t0},
		DeleteControllerRevision{Namespace: "default", Name: "agent-1"},
	}
}
