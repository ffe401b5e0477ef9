package placement

import (
	"errors"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func withNodeAffinity(p *api.Pod, req []api.NodeSelectorRequirement, pref ...api.PreferredSchedulingTerm) *api.Pod {
	na := &api.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: pref}
	if req != nil {
		na.RequiredDuringSchedulingIgnoredDuringExecution = &api.NodeSelector{NodeSelectorTerms: []api.NodeSelectorTerm{{MatchExpressions: req}}}
	}
	p.Spec.Affinity = &api.Affinity{NodeAffinity: na}
	return p
}

// Required node affinity filters as a node selector does, and is named
// when nothing fits; a preference outweighs free resources but never a
// requirement.
func TestNodeAffinityRequiresThenPrefers(t *testing.T) {
	edgeBig := node("a-big", "16Gi", "8", map[string]string{"zone": "edge", "disk": "hdd"})
	edgeSSD := node("b-ssd", "2Gi", "1", map[string]string{"zone": "edge", "disk": "ssd"})
	coreSSD := node("c-core", "16Gi", "8", map[string]string{"zone": "core", "disk": "ssd"})
	nodes := []NodeInfo{edgeBig, edgeSSD, coreSSD}
	inEdge := []api.NodeSelectorRequirement{{Key: "zone", Operator: api.NodeSelectorOpIn, Values: []string{"edge"}}}
	ssd := api.PreferredSchedulingTerm{Weight: 50, Preference: api.NodeSelectorTerm{MatchExpressions: []api.NodeSelectorRequirement{
		{Key: "disk", Operator: api.NodeSelectorOpIn, Values: []string{"ssd"}}}}}

	for i := 0; i < 8; i++ {
		p := pod("512Mi")
		p.ObjectMeta.Name = "p" + string(rune('0'+i)) // vary the walk's start
		if got, _, err := Choose(withNodeAffinity(p, inEdge), nodes); err != nil || got != "a-big" {
			t.Fatalf("required zone=edge: %q, %v; want a-big (the most free of the edge nodes)", got, err)
		}
		p = pod("512Mi")
		p.ObjectMeta.Name = "q" + string(rune('0'+i))
		if got, _, err := Choose(withNodeAffinity(p, inEdge, ssd), nodes); err != nil || got != "b-ssd" {
			t.Fatalf("required zone=edge, preferred disk=ssd: %q, %v; want b-ssd", got, err)
		}
	}
	if ok, why := Fits(withNodeAffinity(pod("1Gi"), inEdge), coreSSD); ok || why != "c-core: node affinity does not match" {
		t.Fatalf("Fits on c-core = %v %q", ok, why)
	}
	notHere := []api.NodeSelectorRequirement{{Key: "zone", Operator: api.NodeSelectorOpNotIn, Values: []string{"edge", "core"}}}
	_, f, err := Choose(withNodeAffinity(pod("1Gi"), notHere), nodes)
	if !errors.Is(err, ErrNoFit) || !strings.Contains(f.String(), "3 node(s) didn't match Pod's node affinity") {
		t.Fatalf("no node matches: %v, %v", f, err)
	}
}
