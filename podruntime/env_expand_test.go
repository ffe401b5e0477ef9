package podruntime

import (
	"context"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

// Kubernetes' expansion cases (third_party/forked/golang/expansion).
func TestExpandVarsAsKubernetesDoes(t *testing.T) {
	vars := map[string]string{"VAR_A": "A", "VAR_B": "B", "EMPTY": ""}
	for in, want := range map[string]string{
		"$(VAR_A)":              "A",
		"___$(VAR_B)___":        "___B___",
		"$(VAR_A)-$(VAR_B)":     "A-B",
		"$$(VAR_A)":             "$(VAR_A)",
		"$$$(VAR_A)":            "$A",
		"$(UNKNOWN)":            "$(UNKNOWN)",
		"$(VAR_A":               "$(VAR_A",
		"$VAR_A":                "$VAR_A",
		"$":                     "$",
		"x$":                    "x$",
		"$(EMPTY)x":             "x",
		"no refs":               "no refs",
		"$()":                   "$()",
		"f(VAR_A)$(VAR_A)$$x$y": "f(VAR_A)A$x$y",
	} {
		if got := expandVars(in, vars); got != want {
			t.Errorf("expand %q = %q, want %q", in, got, want)
		}
	}
}

func TestEnvValuesCommandAndArgsExpandEarlierVariables(t *testing.T) {
	c := api.Container{Name: "app", Command: []string{"run", "--name=$(POD)"}, Args: []string{"$(GREETING)", "$(LATER)"},
		Env: []api.EnvVar{
			{Name: "POD", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "GREETING", Value: "hello $(POD), not $(LATER)"},
			{Name: "LATER", Value: "later"},
		}}
	env, _, err := containerEnv(context.Background(), newObjectCache(nil, "default"), envPod(c), c)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(env, "|"); got != "POD=web|GREETING=hello web, not $(LATER)|LATER=later" {
		t.Errorf("env %q", got)
	}
	x := expandCommand(c, env)
	if strings.Join(x.Command, " ") != "run --name=web" || strings.Join(x.Args, " ") != "hello web, not $(LATER) later" {
		t.Errorf("command %q args %q", x.Command, x.Args)
	}
	if c.Command[1] != "--name=$(POD)" {
		t.Error("the container spec itself was changed")
	}
}
