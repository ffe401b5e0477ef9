package api

import (
	"strings"
	"testing"
)

func TestTolerationsDecodeAndMatchTaints(t *testing.T) {
	in := strings.Replace(twoContainers, "restartPolicy: Never", `restartPolicy: Never
  tolerations:
  - {key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}
  - {key: flaky, operator: Exists, effect: NoExecute, tolerationSeconds: 30}`, 1)
	p, err := decodePod(t, in)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	tol := p.Spec.Tolerations
	if len(tol) != 2 || *tol[1].TolerationSeconds != 30 {
		t.Fatalf("tolerations = %+v", tol)
	}
	cases := []struct {
		taint Taint
		want  bool
	}{
		{Taint{Key: "dedicated", Value: "gpu", Effect: TaintNoSchedule}, true},
		{Taint{Key: "dedicated", Value: "cpu", Effect: TaintNoSchedule}, false},
		{Taint{Key: "dedicated", Value: "gpu", Effect: TaintNoExecute}, false},
		{Taint{Key: "flaky", Value: "anything", Effect: TaintNoExecute}, true},
		{Taint{Key: "flaky", Effect: TaintNoSchedule}, false},
		{Taint{Key: "other", Effect: TaintNoSchedule}, false},
	}
	for _, c := range cases {
		if got := Tolerates(tol, &c.taint); got != c.want {
			t.Errorf("Tolerates(%s) = %v, want %v", c.taint.ToString(), got, c.want)
		}
	}
	all := []Toleration{{Operator: "Exists"}}
	if !Tolerates(all, &Taint{Key: "x", Value: "y", Effect: TaintNoExecute}) {
		t.Errorf("an empty key with Exists must tolerate every taint")
	}
}

func TestValidateNodeTaintsNamesTheField(t *testing.T) {
	cases := map[string]struct {
		taints []Taint
		want   string
	}{
		"no effect":  {[]Taint{{Key: "a"}}, "spec.taints[0].effect: required"},
		"bad effect": {[]Taint{{Key: "a", Effect: "Never"}}, `spec.taints[0].effect: invalid value "Never"`},
		"no key":     {[]Taint{{Effect: TaintNoSchedule}}, "spec.taints[0].key: required"},
		"bad value":  {[]Taint{{Key: "a", Value: "a b", Effect: TaintNoSchedule}}, `spec.taints[0].value: invalid value "a b"`},
		"duplicate": {[]Taint{{Key: "a", Effect: TaintNoSchedule}, {Key: "a", Value: "x", Effect: TaintNoSchedule}},
			"spec.taints[1]: invalid value \"a:NoSchedule\": duplicate taint"},
	}
	for name, c := range cases {
		n := &Node{ObjectMeta: ObjectMeta{Name: "n1"}, Spec: NodeSpec{Taints: c.taints}}
		err := ValidateNode(n)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	ok := &Node{ObjectMeta: ObjectMeta{Name: "n1"}, Spec: NodeSpec{Taints: []Taint{
		{Key: "a", Effect: TaintNoSchedule}, {Key: "a", Effect: TaintNoExecute}, {Key: "b", Value: "v", Effect: TaintPreferNoSchedule}}}}
	if err := ValidateNode(ok); err != nil {
		t.Errorf("valid taints refused: %v", err)
	}
}
