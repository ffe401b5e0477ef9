package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func TestRelabelAddsRemovesAndNeedsOverwriteToChange(t *testing.T) {
	pod := func() *api.Pod {
		return &api.Pod{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}}}
	}
	for _, tc := range []struct {
		name      string
		args      []string
		overwrite bool
		want      map[string]string
		changed   bool
		err       string
	}{
		{"add", []string{"env=prod"}, false, map[string]string{"app": "web", "tier": "front", "env": "prod"}, true, ""},
		{"same value is no change", []string{"app=web"}, false, map[string]string{"app": "web", "tier": "front"}, false, ""},
		{"change needs overwrite", []string{"app=api"}, false, nil, false, "--overwrite"},
		{"change with overwrite", []string{"app=api"}, true, map[string]string{"app": "api", "tier": "front"}, true, ""},
		{"remove", []string{"tier-"}, false, map[string]string{"app": "web"}, true, ""},
		{"remove missing is no change", []string{"nope-"}, false, map[string]string{"app": "web", "tier": "front"}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, remove, err := parseLabelArgs(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			p := pod()
			changed, err := relabel(p, set, remove, tc.overwrite)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || changed != tc.changed || !reflect.DeepEqual(p.ObjectMeta.Labels, tc.want) {
				t.Fatalf("changed=%v err=%v labels=%v", changed, err, p.ObjectMeta.Labels)
			}
		})
	}
}

func TestLabelArgumentsAreCheckedWithKubernetesRules(t *testing.T) {
	for _, arg := range []string{"novalue", "bad key=x", "k=" + strings.Repeat("v", 64), "-"} {
		if _, _, err := parseLabelArgs([]string{arg}); err == nil {
			t.Errorf("%q accepted", arg)
		}
	}
}
