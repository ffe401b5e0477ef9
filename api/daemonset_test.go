package api

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
)

func testDaemonSet() *DaemonSet {
	ds := &DaemonSet{ObjectMeta: ObjectMeta{Name: "agent"},
		Spec: DaemonSetSpec{Selector: &LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: PodTemplateSpec{ObjectMeta: ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec: PodSpec{Containers: []Container{{Name: "c", Image: "busybox:1"}}}}}}
	Default(ds)
	return ds
}

func TestDaemonSetDefaultsAndMaxUnavailable(t *testing.T) {
	ds := testDaemonSet()
	if err := ValidateDaemonSet(ds); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		v       intstr.IntOrString
		desired int32
		want    int32
	}{
		{intstr.FromInt32(1), 5, 1},
		{intstr.FromInt32(3), 5, 3},
		{intstr.FromString("40%"), 5, 2},
		{intstr.FromString("10%"), 5, 1}, // rounds up
		{intstr.FromString("100%"), 5, 5},
		{intstr.FromString("10%"), 0, 1}, // at least 1
	} {
		v := tc.v
		ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = &v
		if got := DaemonMaxUnavailable(ds, tc.desired); got != tc.want {
			t.Errorf("maxUnavailable %s of %d: %d, want %d", v.String(), tc.desired, got, tc.want)
		}
	}
	ds.Spec.UpdateStrategy = DaemonSetUpdateStrategy{Type: OnDeleteDaemonSetStrategyType}
	if got := DaemonMaxUnavailable(ds, 5); got != 0 {
		t.Errorf("OnDelete: %d, want 0", got)
	}
}

func TestValidateDaemonSetNamesTheField(t *testing.T) {
	for field, mutate := range map[string]func(*DaemonSet){
		"spec.updateStrategy.rollingUpdate.maxSurge": func(ds *DaemonSet) {
			v := intstr.FromInt32(1)
			ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge = &v
		},
		"spec.updateStrategy.rollingUpdate.maxUnavailable": func(ds *DaemonSet) {
			v := intstr.FromString("0%")
			ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = &v
		},
		"spec.updateStrategy.rollingUpdate": func(ds *DaemonSet) { ds.Spec.UpdateStrategy.Type = OnDeleteDaemonSetStrategyType },
		"spec.template.spec.nodeName":       func(ds *DaemonSet) { ds.Spec.Template.Spec.NodeName = "n1" },
		"spec.template.metadata.labels." + ControllerRevisionHashLabel: func(ds *DaemonSet) {
			ds.Spec.Template.Labels[ControllerRevisionHashLabel] = "x"
		},
		"spec.selector":        func(ds *DaemonSet) { ds.Spec.Selector = nil },
		"spec.minReadySeconds": func(ds *DaemonSet) { ds.Spec.MinReadySeconds = -1 },
	} {
		ds := testDaemonSet()
		mutate(ds)
		err := ValidateDaemonSet(ds)
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("want an error naming %s, got %v", field, err)
		}
	}
}

func TestDaemonPodTolerationsKeepTheTemplatesOwn(t *testing.T) {
	mine := Toleration{Key: TaintUnschedulable, Operator: "Exists", Effect: TaintNoSchedule}
	got := DaemonPodTolerations([]Toleration{mine, {Key: "dedicated", Value: "db", Effect: TaintNoSchedule}})
	if len(got) != 7 || got[0] != mine || got[1].Key != "dedicated" {
		t.Fatalf("tolerations %+v, want the two given and the five other daemon ones", got)
	}
	ds := testDaemonSet()
	n := &Node{ObjectMeta: ObjectMeta{Name: "n1"}, Spec: NodeSpec{Unschedulable: true,
		Taints: []Taint{{Key: "node.kubernetes.io/unreachable", Effect: TaintNoExecute}, {Key: "x", Effect: TaintPreferNoSchedule}}}}
	if run, stay := DaemonNodeFit(ds, n); !run || !stay {
		t.Errorf("cordoned, unreachable node: run %v stay %v, want both", run, stay)
	}
	n.Spec.Taints = append(n.Spec.Taints, Taint{Key: "gpu", Effect: TaintNoSchedule})
	if run, stay := DaemonNodeFit(ds, n); run || !stay {
		t.Errorf("NoSchedule taint: run %v stay %v, want false true", run, stay)
	}
	ds.Spec.Template.Spec.Tolerations = []Toleration{{Key: "gpu", Operator: "Exists"}}
	if run, _ := DaemonNodeFit(ds, n); !run {
		t.Error("a tolerated NoSchedule taint keeps the node out")
	}
	n.Spec.Taints = append(n.Spec.Taints, Taint{Key: "evict", Effect: TaintNoExecute})
	if run, stay := DaemonNodeFit(ds, n); run || stay {
		t.Errorf("NoExecute taint: run %v stay %v, want neither", run, stay)
	}
}

// A DaemonSet runs where its template's nodeSelector and required node
// affinity both match, as Kubernetes' NodeShouldRunDaemonPod decides.
func TestDaemonNodeFitHonoursNodeAffinity(t *testing.T) {
	ds := testDaemonSet()
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"role": "edge"}
	ds.Spec.Template.Spec.Affinity = &Affinity{NodeAffinity: &NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &NodeSelector{
		NodeSelectorTerms: []NodeSelectorTerm{{MatchExpressions: []NodeSelectorRequirement{{Key: "kubernetes.io/arch", Operator: NodeSelectorOpIn, Values: []string{"arm64"}}}}}}}}
	for labels, want := range map[string]bool{
		"role=edge,arch=arm64": true,
		"role=edge,arch=amd64": false,
		"role=core,arch=arm64": false,
	} {
		l := map[string]string{}
		for _, kv := range strings.Split(labels, ",") {
			k, v, _ := strings.Cut(kv, "=")
			if k == "arch" {
				k = "kubernetes.io/arch"
			}
			l[k] = v
		}
		n := &Node{ObjectMeta: ObjectMeta{Name: "n1", Labels: l}}
		if run, _ := DaemonNodeFit(ds, n); run != want {
			t.Errorf("%s: run %v, want %v", labels, run, want)
		}
	}
}
