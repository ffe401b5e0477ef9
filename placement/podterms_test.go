package placement

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api"
)

func labelled(p *api.Pod, name string, labels map[string]string) *api.Pod {
	p.ObjectMeta.Name, p.ObjectMeta.Namespace, p.ObjectMeta.Labels = name, "default", labels
	return p
}

func zoned(name, zone string) NodeInfo {
	return node(name, "8Gi", "4", map[string]string{"kubernetes.io/hostname": name, "zone": zone})
}

func webTerm(key string) api.PodAffinityTerm {
	return api.PodAffinityTerm{TopologyKey: key, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}
}

// placeAll places pods one after another as the leader's round does,
// adding each to placed, and returns the node of each.
func placeAll(t *testing.T, pods []*api.Pod, nodes []NodeInfo, placed *Placed) []string {
	t.Helper()
	var got []string
	for _, p := range pods {
		name, f, err := ChooseAmong(p, nodes, placed)
		if err != nil {
			got = append(got, "none: "+f.String())
			continue
		}
		for _, n := range nodes {
			if n.Node.ObjectMeta.Name == name {
				placed.Add(p, n.Node)
			}
		}
		got = append(got, name)
	}
	return got
}

// Required anti-affinity on the hostname puts one replica per node and
// says why a fourth fits nowhere; across zones, one per zone.
func TestPodAntiAffinityKeepsReplicasApart(t *testing.T) {
	nodes := []NodeInfo{zoned("a1", "a"), zoned("a2", "a"), zoned("b1", "b")}
	var pods []*api.Pod
	for i := 0; i < 4; i++ {
		p := labelled(pod("100Mi"), "web-"+string(rune('0'+i)), map[string]string{"app": "web"})
		p.Spec.Affinity = &api.Affinity{PodAntiAffinity: &api.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []api.PodAffinityTerm{webTerm("kubernetes.io/hostname")}}}
		pods = append(pods, p)
	}
	got := placeAll(t, pods, nodes, &Placed{})
	seen := map[string]bool{}
	for _, n := range got[:3] {
		if seen[n] || strings.HasPrefix(n, "none") {
			t.Fatalf("replicas placed on %v, want one per node", got)
		}
		seen[n] = true
	}
	if !strings.Contains(got[3], "3 node(s) didn't match pod anti-affinity rules") {
		t.Fatalf("a fourth replica: %q", got[3])
	}
	if got, why, _ := ChooseAmong(pods[3], nodes[:1], NewPlaced([]*api.Pod{withNode(pods[0], "a1")}, []*api.Node{nodes[0].Node})); got != "" || why == nil ||
		!strings.Contains(why.String(), "a1: pod anti-affinity: a pod matching app=web already runs in kubernetes.io/hostname=a1") {
		t.Fatalf("the reason for a1: %q %v", got, why)
	}

	for _, p := range pods {
		p.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution = []api.PodAffinityTerm{webTerm("zone")}
	}
	got = placeAll(t, pods[:3], nodes, &Placed{})
	zones := map[string]bool{}
	for _, n := range got[:2] {
		zones[n[:1]] = true
	}
	if len(zones) != 2 || !strings.HasPrefix(got[2], "none") {
		t.Fatalf("across zones: %v, want one in each of a and b, then none", got)
	}
}

func withNode(p *api.Pod, node string) *api.Pod {
	c := *p
	c.Spec.NodeName = node
	return &c
}

// Required pod affinity puts a pod where a pod it names runs; the first
// of a group that matches itself may go anywhere.
func TestPodAffinityFollowsThePodItNames(t *testing.T) {
	nodes := []NodeInfo{zoned("a1", "a"), zoned("b1", "b"), zoned("b2", "b")}
	cache := labelled(pod("100Mi"), "cache", map[string]string{"app": "cache"})
	placed := NewPlaced([]*api.Pod{withNode(cache, "b2")}, []*api.Node{nodes[0].Node, nodes[1].Node, nodes[2].Node})
	for i := 0; i < 6; i++ {
		p := labelled(pod("100Mi"), "web-"+string(rune('0'+i)), map[string]string{"app": "web"})
		p.Spec.Affinity = &api.Affinity{PodAffinity: &api.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []api.PodAffinityTerm{{
			TopologyKey: "zone", LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "cache"}}}}}}
		if got, _, err := ChooseAmong(p, nodes, placed); err != nil || got[:1] != "b" {
			t.Fatalf("web beside the cache's zone: %q %v", got, err)
		}
	}
	first := labelled(pod("100Mi"), "web-0", map[string]string{"app": "web"})
	first.Spec.Affinity = &api.Affinity{PodAffinity: &api.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []api.PodAffinityTerm{webTerm("zone")}}}
	if _, _, err := ChooseAmong(first, nodes, &Placed{}); err != nil {
		t.Fatalf("the first of a self-affine group: %v", err)
	}
	lonely := labelled(pod("100Mi"), "x", map[string]string{"app": "x"})
	lonely.Spec.Affinity = first.Spec.Affinity
	if _, f, err := ChooseAmong(lonely, nodes, &Placed{}); !errors.Is(err, ErrNoFit) || !strings.Contains(f.String(), "didn't match pod affinity rules") {
		t.Fatalf("affinity to pods that do not exist: %v %v", f, err)
	}
}

// DoNotSchedule spreading keeps zones within maxSkew, counting only the
// domains the pod may go to; ScheduleAnyway prefers the emptier domain.
func TestTopologySpreadKeepsZonesEven(t *testing.T) {
	nodes := []NodeInfo{zoned("a1", "a"), zoned("a2", "a"), zoned("a3", "a"), zoned("b1", "b")}
	spread := func(when corev1.UnsatisfiableConstraintAction) []api.TopologySpreadConstraint {
		return []api.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: when,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
	}
	var pods []*api.Pod
	for i := 0; i < 4; i++ {
		p := labelled(pod("100Mi"), "web-"+string(rune('0'+i)), map[string]string{"app": "web"})
		p.Spec.TopologySpreadConstraints = spread(api.DoNotSchedule)
		pods = append(pods, p)
	}
	got := placeAll(t, pods, nodes, &Placed{})
	count := map[string]int{}
	for _, n := range got {
		count[n[:1]]++
	}
	if count["a"] != 2 || count["b"] != 2 {
		t.Fatalf("4 replicas over zones a (3 nodes) and b (1 node): %v, want 2 and 2", got)
	}
	// Without spreading, the three big nodes of zone a would take most.
	five := labelled(pod("100Mi"), "web-5", map[string]string{"app": "web"})
	five.Spec.TopologySpreadConstraints = spread(api.DoNotSchedule)
	pl := NewPlaced([]*api.Pod{withNode(pods[0], "a1"), withNode(pods[1], "a2")}, []*api.Node{nodes[0].Node, nodes[1].Node, nodes[2].Node, nodes[3].Node})
	if got, _, err := ChooseAmong(five, nodes, pl); err != nil || got != "b1" {
		t.Fatalf("with two in a and none in b: %q %v, want b1", got, err)
	}
	noZone := node("c1", "8Gi", "4", nil)
	if _, f, err := ChooseAmong(five, []NodeInfo{noZone}, &Placed{}); !errors.Is(err, ErrNoFit) || !strings.Contains(f.String(), "c1: topology spread: it has no zone label") {
		t.Fatalf("a node without the key: %v %v", f, err)
	}
	five.Spec.TopologySpreadConstraints = spread(api.ScheduleAnyway)
	if got, _, err := ChooseAmong(five, nodes, pl); err != nil || got != "b1" {
		t.Fatalf("ScheduleAnyway with two in a: %q %v, want b1", got, err)
	}
}

// A bound pod's required anti-affinity keeps out a newcomer it selects,
// though the newcomer has no terms (Kubernetes' symmetry); one it does not
// select may join it.
func TestBoundPodsAntiAffinityKeepsOutNewcomersWithoutTerms(t *testing.T) {
	nodes := []NodeInfo{zoned("a1", "a"), zoned("a2", "a"), zoned("b1", "b")}
	all := []*api.Node{nodes[0].Node, nodes[1].Node, nodes[2].Node}
	db := labelled(pod("100Mi"), "db", map[string]string{"app": "db"})
	db.Spec.Affinity = &api.Affinity{PodAntiAffinity: &api.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []api.PodAffinityTerm{webTerm("zone")}}}
	placed := NewPlaced([]*api.Pod{withNode(db, "a1")}, all)
	if !RepelsOthers(db) || RepelsOthers(labelled(pod("100Mi"), "plain", nil)) {
		t.Fatal("RepelsOthers must tell a pod with required anti-affinity from one without")
	}
	for i := 0; i < 4; i++ {
		web := labelled(pod("100Mi"), "web-"+string(rune('0'+i)), map[string]string{"app": "web"})
		if got, _, err := ChooseAmong(web, nodes, placed); err != nil || got != "b1" {
			t.Fatalf("web without terms beside a db that keeps web out of zone a: %q %v, want b1", got, err)
		}
	}
	other := labelled(pod("100Mi"), "cache", map[string]string{"app": "cache"})
	if got, _, err := ChooseAmong(other, nodes[:1], placed); err != nil || got != "a1" {
		t.Fatalf("a pod the db's term does not select: %q %v, want a1", got, err)
	}
	elsewhere := labelled(pod("100Mi"), "web-x", map[string]string{"app": "web"})
	elsewhere.ObjectMeta.Namespace = "other"
	if got, _, err := ChooseAmong(elsewhere, nodes[:1], placed); err != nil || got != "a1" {
		t.Fatalf("a web pod of another namespace than the term's: %q %v, want a1", got, err)
	}
	web := labelled(pod("100Mi"), "web-9", map[string]string{"app": "web"})
	if _, f, err := ChooseAmong(web, nodes[:2], placed); !errors.Is(err, ErrNoFit) ||
		!strings.Contains(f.String(), "2 node(s) didn't match pod anti-affinity rules") ||
		!strings.Contains(f.String(), "a pod in zone=a keeps out pods matching app=web") {
		t.Fatalf("only zone a's nodes: %v %v", f, err)
	}
	// Placed in the same round: a db placed first keeps the web after it out.
	round := &Placed{}
	got := placeAll(t, []*api.Pod{withNode(db, ""), labelled(pod("100Mi"), "web-r", map[string]string{"app": "web"})}, nodes, round)
	if got[0][:1] == got[1][:1] {
		t.Fatalf("db then web in one round: %v, want different zones", got)
	}
}
