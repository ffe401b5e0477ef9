package consensus

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

func TestUserNodeFieldsSurviveAgentReports(t *testing.T) {
	h := newHarness(t)
	reg := node("n1", "4Gi", "192.168.50.2")
	reg.Node.ObjectMeta.Labels = map[string]string{"kubernetes.io/hostname": "n1", "shoal.dev/server": ""}
	reg.Node.ObjectMeta.Annotations = map[string]string{"shoal.dev/api": "a:1"}
	h.must(reg, ready("n1"))

	stored, _ := h.f.Node("n1")
	user := stored.DeepCopy()
	user.ObjectMeta.Labels["disk"] = "ssd"
	user.ObjectMeta.Annotations["owner"] = "team-a"
	user.Spec.Unschedulable = true
	user.Spec.Taints = []api.Taint{{Key: "dedicated", Value: "gpu", Effect: api.TaintNoSchedule}, {Key: "flaky", Effect: api.TaintNoExecute}}
	res, err := h.do(UpdateNode{Node: *user, Time: t0.Add(time.Minute)})
	if err != nil || !res.Changed {
		t.Fatalf("UpdateNode = %+v, %v", res, err)
	}
	if ta := res.Node.Spec.Taints[1].TimeAdded; ta == nil || !ta.Time.Equal(t0.Add(time.Minute)) {
		t.Fatalf("NoExecute taint's timeAdded = %v, want the command's time", ta)
	}
	if res.Node.Spec.Taints[0].TimeAdded != nil {
		t.Fatalf("a NoSchedule taint got a timeAdded")
	}

	// The agent reports again, no longer a server and with a new label.
	again := node("n1", "8Gi", "192.168.50.2")
	again.Node.ObjectMeta.Labels = map[string]string{"kubernetes.io/hostname": "n1", "zone": "a"}
	again.Node.ObjectMeta.Annotations = map[string]string{"shoal.dev/api": "a:2"}
	h.must(again)
	n, _ := h.f.Node("n1")
	wantLabels := map[string]string{"kubernetes.io/hostname": "n1", "zone": "a", "disk": "ssd"}
	if !equalStringMaps(n.ObjectMeta.Labels, wantLabels) {
		t.Errorf("labels = %v, want %v (the user's kept, the dropped server role gone)", n.ObjectMeta.Labels, wantLabels)
	}
	if n.ObjectMeta.Annotations["owner"] != "team-a" || n.ObjectMeta.Annotations["shoal.dev/api"] != "a:2" {
		t.Errorf("annotations = %v", n.ObjectMeta.Annotations)
	}
	if got := AgentLabels(n); !equalStringMaps(got, map[string]string{"kubernetes.io/hostname": "n1", "zone": "a"}) {
		t.Errorf("AgentLabels = %v", got)
	}
	if !n.Spec.Unschedulable || len(n.Spec.Taints) != 2 {
		t.Errorf("spec = %+v, want cordoned with two taints", n.Spec)
	}
	if q := n.Status.Allocatable[api.ResourceMemory]; q.String() != "8Gi" {
		t.Errorf("allocatable memory = %s, want the agent's new 8Gi", q.String())
	}

	// The user's write cannot claim the agent's labels as its own.
	user = n.DeepCopy()
	user.ObjectMeta.Annotations[AnnAgentLabels] = "disk"
	user.ObjectMeta.ResourceVersion = ""
	h.must(UpdateNode{Node: *user, Time: t0})
	n, _ = h.f.Node("n1")
	if n.ObjectMeta.Annotations[AnnAgentLabels] != "kubernetes.io/hostname,zone" {
		t.Errorf("agent-labels = %q", n.ObjectMeta.Annotations[AnnAgentLabels])
	}
	if snap := snapshotRestored(t, h.f); func() bool { m, _ := snap.Node("n1"); return !m.Spec.Unschedulable }() {
		t.Errorf("snapshot lost spec.unschedulable")
	}
}

func TestUpdateNodeRefusesAndChangesNothing(t *testing.T) {
	h := newHarness(t)
	h.must(node("n1", "4Gi", "192.168.50.2"))
	stored, _ := h.f.Node("n1")
	before := h.stateJSON()
	cases := map[string]struct {
		edit func(n *api.Node)
		want string
	}{
		"stale":    {func(n *api.Node) { n.ObjectMeta.ResourceVersion = "999" }, "conflict: the object has been modified"},
		"uid":      {func(n *api.Node) { n.ObjectMeta.UID = "other" }, "conflict: metadata.uid other"},
		"podCIDR":  {func(n *api.Node) { n.Spec.PodCIDR = "10.9.0.0/24" }, `spec.podCIDR: invalid value "10.9.0.0/24": may not be changed`},
		"taint":    {func(n *api.Node) { n.Spec.Taints = []api.Taint{{Key: "k", Effect: "Sometimes"}} }, `spec.taints[0].effect: invalid value "Sometimes"`},
		"label":    {func(n *api.Node) { n.ObjectMeta.Labels = map[string]string{"a b": "x"} }, "metadata.labels"},
		"notfound": {func(n *api.Node) { n.ObjectMeta.Name = "n9" }, `node "n9" not found`},
	}
	for name, c := range cases {
		n := stored.DeepCopy()
		c.edit(n)
		_, err := h.do(UpdateNode{Node: *n, Time: t0})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	if after := h.stateJSON(); after != before {
		t.Errorf("a refused UpdateNode changed the state")
	}
}
