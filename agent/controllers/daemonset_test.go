package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// dsRig drives the real daemon set controller on a one-seat cluster one
// pass at a time, standing in for placement and the kubelets: it binds
// each new pod to the node it is pinned to and makes at most readyPerStep
// pods Ready per step, so a rollout takes many steps and every step is
// sampled.
type dsRig struct {
	t            *testing.T
	l            *Leader
	s            *consensus.TestServer
	ctx          context.Context
	readyPerStep int
}

func newDSRig(t *testing.T, readyPerStep int, nodes ...Member) *dsRig {
	t.Helper()
	l, s := testLeader(t, Config{Liveness: liveness.WithGrace(time.Second)}, Deps{Members: &fakeFleet{}})
	for _, m := range nodes {
		registerReady(t, s, m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return &dsRig{t: t, l: l, s: s, ctx: ctx, readyPerStep: readyPerStep}
}

func dsNode(name string, labels map[string]string) Member {
	return Member{Name: name, Addr: "10.0.0." + strings.TrimPrefix(name, "n"), Alive: true, Pods: 100, Memory: "10Gi", CPU: "10", Labels: labels}
}

func agentDaemonSet(image string, nodeSelector map[string]string) *api.DaemonSet {
	ds := &api.DaemonSet{ObjectMeta: api.ObjectMeta{Name: "agent", Namespace: "default"},
		Spec: api.DaemonSetSpec{
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec: api.PodSpec{NodeSelector: nodeSelector, Containers: []api.Container{{Name: "c", Image: image}}}}}}
	ds.APIVersion, ds.Kind = api.AppsV1, api.KindDaemonSet
	return ds
}

func (r *dsRig) create(ds *api.DaemonSet) {
	apply(r.t, r.s, consensus.ApplyDaemonSet{DaemonSet: *ds, Create: true, UID: "ds-uid", Time: time.Now().UTC()})
}

func (r *dsRig) daemonSet() *api.DaemonSet {
	r.t.Helper()
	ds, err := r.s.FSM.DaemonSet("default", "agent")
	if err != nil {
		r.t.Fatal(err)
	}
	return ds
}

func (r *dsRig) setImage(image string) {
	ds := r.daemonSet()
	ds.Spec.Template.Spec.Containers[0].Image = image
	apply(r.t, r.s, consensus.ApplyDaemonSet{DaemonSet: *ds, Time: time.Now().UTC()})
}

// pass runs the controller once.
func (r *dsRig) pass() {
	r.t.Helper()
	nodes, _ := r.s.FSM.Nodes()
	if err := r.l.syncDaemonSet(r.ctx, r.daemonSet(), nodes, time.Now().UTC()); err != nil {
		r.t.Fatalf("daemon set pass: %v", err)
	}
}

// step runs the controller, then the kubelets.
func (r *dsRig) step() {
	t := r.t
	t.Helper()
	r.pass()
	pods, _ := r.s.FSM.Pods(nil)
	readied := 0
	for _, p := range pods {
		if !consensus.Bound(p) {
			if p.Spec.NodeName == "" {
				t.Fatalf("daemon pod %s is not pinned to a node", p.Name)
			}
			ip, err := r.s.FSM.FreePodIP(p.Spec.NodeName)
			if err != nil {
				t.Fatal(err)
			}
			apply(t, r.s, consensus.BindPod{Namespace: p.Namespace, Name: p.Name, UID: p.UID, Node: p.Spec.NodeName, PodIP: ip.String(), Time: time.Now().UTC()})
			setReady(t, r.s, p.Namespace, p.Name, false)
			continue
		}
		if !podReady(p) && p.Status.Phase != api.PodUnknown && readied < r.readyPerStep {
			setReady(t, r.s, p.Namespace, p.Name, true)
			readied++
		}
	}
}

// byNode is each node's daemon pods as "image" (with "!" when not Ready).
func (r *dsRig) byNode() map[string][]string {
	pods, _ := r.s.FSM.Pods(nil)
	out := map[string][]string{}
	for _, p := range pods {
		s := p.Spec.Containers[0].Image
		if !podReady(p) {
			s += "!"
		}
		out[p.Spec.NodeName] = append(out[p.Spec.NodeName], s)
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

// done tells whether kubectl rollout status would call the rollout
// complete.
func (r *dsRig) done() bool {
	ds := r.daemonSet()
	st := ds.Status
	return st.ObservedGeneration >= ds.Generation && st.UpdatedNumberScheduled == st.DesiredNumberScheduled && st.NumberAvailable == st.DesiredNumberScheduled
}

func (r *dsRig) roll(what string, check func(step int)) int {
	r.t.Helper()
	for i := 0; i < 200; i++ {
		r.step()
		check(i)
		if r.done() {
			return i
		}
	}
	r.t.Fatalf("%s never completed: %+v %v", what, r.daemonSet().Status, r.byNode())
	return 0
}

func TestDaemonSetRunsOnePodOnEveryMatchingNode(t *testing.T) {
	ssd := map[string]string{"disk": "ssd"}
	r := newDSRig(t, 10, dsNode("n1", ssd), dsNode("n2", nil), dsNode("n3", ssd))
	r.create(agentDaemonSet("agent:1", ssd))
	r.roll("first rollout", func(int) {})
	if got := fmt.Sprint(r.byNode()); got != "map[n1:[agent:1] n3:[agent:1]]" {
		t.Fatalf("pods by node: %s, want one on each ssd node", got)
	}
	pods, _ := r.s.FSM.Pods(nil)
	for _, p := range pods {
		ref := api.ControllerOf(p)
		if ref == nil || ref.Kind != api.KindDaemonSet || ref.UID != "ds-uid" || p.Labels[api.ControllerRevisionHashLabel] == "" ||
			p.Labels[api.PodTemplateGenerationLabel] != "1" || !strings.HasPrefix(p.Name, "agent-") {
			t.Errorf("pod %s: owner %+v labels %v", p.Name, ref, p.Labels)
		}
	}
	st := r.daemonSet().Status
	if st.DesiredNumberScheduled != 2 || st.CurrentNumberScheduled != 2 || st.NumberReady != 2 || st.NumberAvailable != 2 ||
		st.UpdatedNumberScheduled != 2 || st.NumberMisscheduled != 0 || st.ObservedGeneration != 1 {
		t.Fatalf("status %+v", st)
	}

	// A node that joins gets its pod; one whose labels stop matching
	// loses it.
	registerReady(t, r.s, dsNode("n4", ssd))
	apply(t, r.s, consensus.RegisterNode{Node: *nodeFromMember(dsNode("n1", nil), "test"), Time: time.Now().UTC()})
	r.roll("after n4 joined and n1 left the selector", func(int) {})
	r.pass() // the status after the deletion
	if got := fmt.Sprint(r.byNode()); got != "map[n3:[agent:1] n4:[agent:1]]" {
		t.Fatalf("pods by node: %s", got)
	}
	if st := r.daemonSet().Status; st.DesiredNumberScheduled != 2 || st.NumberMisscheduled != 0 {
		t.Fatalf("status %+v", st)
	}
	// Passes that find everything in place change nothing.
	before, _ := r.s.FSM.Pods(nil)
	r.pass()
	r.pass()
	if after, _ := r.s.FSM.Pods(nil); len(after) != len(before) {
		t.Fatalf("a settled daemon set went from %d pods to %d", len(before), len(after))
	}
}

func TestDaemonSetRollingUpdateKeepsAtMostMaxUnavailableNodesWithout(t *testing.T) {
	for _, tc := range []struct {
		maxUnavailable intstr.IntOrString
		want           int
	}{
		{intstr.FromInt32(1), 1},
		{intstr.FromString("40%"), 2}, // 40% of 5 nodes rounds up to 2
	} {
		t.Run(tc.maxUnavailable.String(), func(t *testing.T) {
			var nodes []Member
			for i := 1; i <= 5; i++ {
				nodes = append(nodes, dsNode(fmt.Sprintf("n%d", i), nil))
			}
			r := newDSRig(t, 1, nodes...)
			ds := agentDaemonSet("agent:1", nil)
			mu := tc.maxUnavailable
			ds.Spec.UpdateStrategy = api.DaemonSetUpdateStrategy{Type: api.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &api.RollingUpdateDaemonSet{MaxUnavailable: &mu}}
			r.create(ds)
			r.roll("first rollout", func(int) {})
			r.setImage("agent:2")
			widest, mixed := 0, false
			steps := r.roll("rolling update", func(step int) {
				without, images := 0, map[string]bool{}
				for _, on := range r.byNode() {
					if len(on) > 1 {
						t.Fatalf("step %d: a node runs %v", step, on)
					}
					if strings.HasSuffix(on[0], "!") {
						without++
					}
					images[strings.TrimSuffix(on[0], "!")] = true
				}
				without += 5 - len(r.byNode())
				if without > tc.want {
					t.Fatalf("step %d: %d nodes without a Ready pod, maxUnavailable %d: %v", step, without, tc.want, r.byNode())
				}
				widest = max(widest, without)
				mixed = mixed || len(images) == 2
			})
			if widest != tc.want || !mixed || steps < 3 {
				t.Fatalf("the update did not roll %d at a time: widest gap %d, mixed %v, %d steps", tc.want, widest, mixed, steps)
			}
			if got := fmt.Sprint(r.byNode()); got != "map[n1:[agent:2] n2:[agent:2] n3:[agent:2] n4:[agent:2] n5:[agent:2]]" {
				t.Fatalf("after the update: %s", got)
			}
			if st := r.daemonSet().Status; st.ObservedGeneration != 2 || st.UpdatedNumberScheduled != 5 {
				t.Fatalf("status %+v", st)
			}
		})
	}
}

func TestDaemonSetOnDeleteReplacesOnlyDeletedPods(t *testing.T) {
	r := newDSRig(t, 10, dsNode("n1", nil), dsNode("n2", nil))
	ds := agentDaemonSet("agent:1", nil)
	ds.Spec.UpdateStrategy.Type = api.OnDeleteDaemonSetStrategyType
	r.create(ds)
	r.roll("first rollout", func(int) {})
	r.setImage("agent:2")
	for range 5 {
		r.step()
	}
	if got := fmt.Sprint(r.byNode()); got != "map[n1:[agent:1] n2:[agent:1]]" {
		t.Fatalf("OnDelete replaced pods by itself: %s", got)
	}
	pods, _ := r.s.FSM.Pods(func(p *api.Pod) bool { return p.Spec.NodeName == "n2" })
	apply(t, r.s, consensus.DeletePod{Namespace: "default", Name: pods[0].Name})
	r.step()
	r.step()
	if got := fmt.Sprint(r.byNode()); got != "map[n1:[agent:1] n2:[agent:2]]" {
		t.Fatalf("after deleting n2's pod: %s", got)
	}
	if st := r.daemonSet().Status; st.UpdatedNumberScheduled != 1 || st.DesiredNumberScheduled != 2 {
		t.Fatalf("status %+v", st)
	}
}

// A lost node keeps its daemon pod, Unknown: node lifecycle does not
// delete it, and the daemon set makes no pod for it anywhere else.
func TestDaemonSetPodOfALostNodeStaysAndIsNotMadeElsewhere(t *testing.T) {
	r := newDSRig(t, 10, dsNode("n1", nil), dsNode("n2", nil), dsNode("n3", nil))
	r.create(agentDaemonSet("agent:1", nil))
	r.roll("first rollout", func(int) {})
	before, _ := r.s.FSM.Pods(func(p *api.Pod) bool { return p.Spec.NodeName == "n2" })
	apply(t, r.s, consensus.SetNodeCondition{Name: "n2", Ready: false, Reason: "NodeStatusUnknown", Time: time.Now().UTC()})
	r.l.evictLostReplicas(r.ctx, time.Now())
	for range 3 {
		r.step()
	}
	if got := fmt.Sprint(r.byNode()); got != "map[n1:[agent:1] n2:[agent:1!] n3:[agent:1]]" {
		t.Fatalf("pods by node after n2 was lost: %s", got)
	}
	after, err := r.s.FSM.Pod("default", before[0].Name)
	if err != nil || after.UID != before[0].UID || after.Status.Phase != api.PodUnknown {
		t.Fatalf("n2's pod: %v %+v", err, after)
	}
	if st := r.daemonSet().Status; st.DesiredNumberScheduled != 3 || st.CurrentNumberScheduled != 3 || st.NumberReady != 2 || st.NumberUnavailable != 1 {
		t.Fatalf("status %+v", st)
	}
}

func TestPlanDaemonSetRemovesStrayAndDuplicatePodsAndAdoptsOrphans(t *testing.T) {
	ds := agentDaemonSet("agent:1", map[string]string{"disk": "ssd"})
	ds.UID, ds.Generation = "ds-uid", 1
	api.Default(ds)
	node := func(name string, labels map[string]string) *api.Node {
		return &api.Node{ObjectMeta: api.ObjectMeta{Name: name, Labels: labels}}
	}
	pod := func(name, node string, age time.Duration) *api.Pod {
		p := api.PodFromDaemonSet(ds, node, "h1")
		p.Name, p.UID = name, api.UID("uid-"+name)
		p.CreationTimestamp = api.TimeOf(time.Unix(1000, 0).Add(-age))
		p.Status.Phase = api.PodRunning
		p.Status.Conditions = []api.PodCondition{{Type: "Ready", Status: api.ConditionTrue}}
		return p
	}
	ssd := map[string]string{"disk": "ssd"}
	nodes := []*api.Node{node("n1", ssd), node("n2", nil), node("n3", ssd), node("n4", ssd), node("n5", ssd)}
	pods := []*api.Pod{
		pod("old", "n1", time.Hour), pod("young", "n1", time.Minute), // a duplicate: the younger goes
		pod("stray", "n2", time.Hour), // n2 does not match
		pod("gone", "n9", time.Hour),  // n9 is not registered
		pod("ok", "n3", time.Hour),
	}
	failed := pod("failed", "n4", time.Hour)
	failed.Status.Phase = api.PodFailed
	other := pod("other", "n4", time.Hour)
	other.OwnerReferences[0].UID = "someone-else"
	orphan := pod("orphan", "n5", time.Hour) // matches: adopted, so n5 gets no new pod
	orphan.OwnerReferences = nil
	bare := pod("bare", "n5", time.Hour) // another app's: left alone
	nodes = append(nodes, node("n6", ssd))
	leaving := pod("leaving", "n6", time.Hour) // terminating: n6 waits for it to go
	leaving.DeletionTimestamp = &leaving.CreationTimestamp
	bare.OwnerReferences, bare.Labels = nil, map[string]string{"app": "other"}
	sel, _ := api.SelectorOf(ds.Spec.Selector)
	plan := planDaemonSet(ds, sel, "h1", nodes, append(pods, failed, other, orphan, bare, leaving), time.Unix(1000, 0))
	if len(plan.adopt) != 1 || plan.adopt[0].Name != "orphan" {
		t.Errorf("adopted %v", plan.adopt)
	}
	var removed []string
	for _, p := range plan.remove {
		removed = append(removed, p.Name)
	}
	sort.Strings(removed)
	if got := fmt.Sprint(removed); got != "[failed gone stray young]" {
		t.Errorf("removed %s", got)
	}
	if got := fmt.Sprint(plan.create); got != "[n4]" {
		t.Errorf("created on %s", got)
	}
	st := plan.status
	if st.DesiredNumberScheduled != 5 || st.CurrentNumberScheduled != 3 || st.NumberMisscheduled != 1 || st.NumberReady != 3 || st.UpdatedNumberScheduled != 3 || st.NumberUnavailable != 2 {
		t.Errorf("status %+v", st)
	}
}

// Deleted with --cascade=orphan and made again, a DaemonSet adopts the
// pods it left on its nodes instead of making new ones.
func TestDaemonSetMadeAgainAdoptsItsOrphans(t *testing.T) {
	r := newDSRig(t, 10, dsNode("n1", nil), dsNode("n2", nil))
	r.create(agentDaemonSet("agent:1", nil))
	r.roll("first rollout", func(int) {})
	before, _ := r.s.FSM.Pods(nil)
	apply(t, r.s, consensus.DeleteDaemonSet{Namespace: "default", Name: "agent", Orphan: true})
	apply(t, r.s, consensus.ApplyDaemonSet{DaemonSet: *agentDaemonSet("agent:1", nil), Create: true, UID: "ds-uid-2", Time: time.Now().UTC()})
	r.roll("made again", func(int) {})
	after, _ := r.s.FSM.Pods(nil)
	if len(after) != 2 || after[0].UID != before[0].UID || after[1].UID != before[1].UID {
		t.Fatalf("pods before %v, after %v", podNames(before), podNames(after))
	}
	for _, p := range after {
		if ref := api.ControllerOf(p); ref == nil || ref.UID != "ds-uid-2" {
			t.Errorf("pod %s owned by %+v, want the new daemon set", p.Name, ref)
		}
	}
}

func podNames(ps []*api.Pod) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

// revisions is the DaemonSet's history as "revision:image", oldest first.
func (r *dsRig) revisions() string {
	crs, _ := r.s.FSM.ControllerRevisions(nil)
	sort.Slice(crs, func(i, j int) bool { return crs[i].Revision < crs[j].Revision })
	var out []string
	for _, cr := range crs {
		var data struct {
			Spec struct {
				Template api.PodTemplateSpec `json:"template"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(cr.Data.Raw, &data); err != nil {
			r.t.Fatalf("revision %s data %s: %v", cr.Name, cr.Data.Raw, err)
		}
		if cr.Labels[api.ControllerRevisionHashLabel] == "" || !strings.HasPrefix(cr.Name, "agent-") {
			r.t.Errorf("revision %s labels %v", cr.Name, cr.Labels)
		}
		out = append(out, fmt.Sprintf("%d:%s", cr.Revision, data.Spec.Template.Spec.Containers[0].Image))
	}
	return strings.Join(out, " ")
}

// Every template rolled out is a revision, numbered in rollout order; a
// template rolled back to gets the next number; spare revisions beyond
// revisionHistoryLimit go, oldest first.
func TestDaemonSetHistory(t *testing.T) {
	r := newDSRig(t, 10, dsNode("n1", nil))
	ds := agentDaemonSet("agent:1", nil)
	one := int32(1)
	ds.Spec.RevisionHistoryLimit = &one
	r.create(ds)
	r.roll("first rollout", func(int) {})
	if got := r.revisions(); got != "1:agent:1" {
		t.Fatalf("history after create: %s", got)
	}
	crs, _ := r.s.FSM.ControllerRevisions(nil)
	want, err := daemonSetPatch(r.daemonSet())
	if err != nil || string(crs[0].Data.Raw) != string(want) || !strings.Contains(string(want), `"$patch":"replace"`) {
		t.Fatalf("revision data %s, want %s (%v)", crs[0].Data.Raw, want, err)
	}
	r.setImage("agent:2")
	r.roll("update", func(int) {})
	if got := r.revisions(); got != "1:agent:1 2:agent:2" {
		t.Fatalf("history after an update: %s", got)
	}
	r.setImage("agent:1") // what rollout undo does
	r.roll("undo", func(int) {})
	r.pass()
	if got := r.revisions(); got != "2:agent:2 3:agent:1" {
		t.Fatalf("history after rolling back: %s", got)
	}
	r.setImage("agent:3")
	r.roll("another update", func(int) {})
	r.pass()
	if got := r.revisions(); got != "3:agent:1 4:agent:3" {
		t.Fatalf("history beyond revisionHistoryLimit 1: %s", got)
	}
}

// Daemon pods carry Kubernetes' daemon tolerations: a cordoned node still
// gets its pod (the state machine's own fit check binds it there); a node
// tainted NoSchedule gets none but keeps one it has; a NoExecute taint
// takes it away.
func TestDaemonSetTaintsAndCordon(t *testing.T) {
	r := newDSRig(t, 10, dsNode("n1", nil), dsNode("n2", nil), dsNode("n3", nil), dsNode("n4", nil))
	setNode := func(name string, change func(*api.Node)) {
		n, err := r.s.FSM.Node(name)
		if err != nil {
			t.Fatal(err)
		}
		change(n)
		apply(t, r.s, consensus.UpdateNode{Node: *n, Time: time.Now().UTC()})
	}
	setNode("n1", func(n *api.Node) { n.Spec.Unschedulable = true })
	setNode("n2", func(n *api.Node) {
		n.Spec.Taints = []api.Taint{{Key: "dedicated", Value: "db", Effect: api.TaintNoSchedule}}
	})
	r.create(agentDaemonSet("agent:1", nil))
	r.roll("first rollout", func(int) {})
	if got := fmt.Sprint(r.byNode()); got != "map[n1:[agent:1] n3:[agent:1] n4:[agent:1]]" {
		t.Fatalf("pods by node: %s, want every node but the NoSchedule-tainted n2", got)
	}
	pods, _ := r.s.FSM.Pods(nil)
	if !api.Tolerates(pods[0].Spec.Tolerations, &api.Taint{Key: api.TaintUnschedulable, Effect: api.TaintNoSchedule}) ||
		!api.Tolerates(pods[0].Spec.Tolerations, &api.Taint{Key: "node.kubernetes.io/unreachable", Effect: api.TaintNoExecute}) {
		t.Fatalf("daemon pod tolerations: %+v", pods[0].Spec.Tolerations)
	}
	setNode("n3", func(n *api.Node) {
		n.Spec.Taints = []api.Taint{{Key: "dedicated", Value: "db", Effect: api.TaintNoSchedule}}
	})
	setNode("n4", func(n *api.Node) {
		n.Spec.Taints = []api.Taint{{Key: "dedicated", Value: "db", Effect: api.TaintNoExecute}}
	})
	r.step()
	r.pass()
	if got := fmt.Sprint(r.byNode()); got != "map[n1:[agent:1] n3:[agent:1]]" {
		t.Fatalf("pods by node after tainting n3 NoSchedule and n4 NoExecute: %s", got)
	}
	if st := r.daemonSet().Status; st.DesiredNumberScheduled != 1 || st.NumberMisscheduled != 1 {
		t.Fatalf("status %+v", st)
	}
}
