package main

import (
	"github.com/shoal-dev/shoal/api"
	"slices"
	"sort"
	"testing"
)

// The README's tour applies examples/ as it is: every manifest there must
// decode and validate as the agents will.
func TestExamplesDecodeAndValidate(t *testing.T) {
	objs, err := readManifests([]string{"../../examples"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, api.TypeMetaOf(o).Kind+"/"+o.GetName())
	}
	sort.Strings(got)
	for _, want := range []string{"Namespace/custom-namespace", "Pod/app-with-logs", "Pod/kubia-manual", "Pod/two-containers", "ReplicationController/coreqi-manual", "DaemonSet/node-agent"} {
		if !slices.Contains(got, want) {
			t.Errorf("examples hold %v, none is %s (the README's tour uses it)", got, want)
		}
	}
}
