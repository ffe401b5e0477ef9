package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/shoal-dev/shoal/agent"
)

// Every flag of shoal agent must be settable in its config file: the test
// writes one key per flag and checks each took the file's value.
func TestEveryAgentFlagIsSettableInTheConfigFile(t *testing.T) {
	fs := newAgentCmd().Flags()
	var yaml strings.Builder
	want := map[string]string{}
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name == "config" || f.Name == "help" {
			return
		}
		var v, s string
		switch f.Value.Type() {
		case "string":
			v, s = "from-file", "from-file"
		case "int":
			v, s = "4242", "4242"
		case "bool":
			v, s = "true", "true"
		case "duration":
			v, s = "7s", "7s"
		case "stringSlice":
			v, s = "[one, two]", "[one,two]"
		default:
			t.Errorf("flag --%s of type %s: add it to this test", f.Name, f.Value.Type())
			return
		}
		fmt.Fprintf(&yaml, "%s: %s\n", f.Name, v)
		want[f.Name] = s
	})
	path := filepath.Join(t.TempDir(), "agent.yaml")
	if err := os.WriteFile(path, []byte(yaml.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := agent.ApplyConfigFile(path, fs); err != nil {
		t.Fatal(err)
	}
	for name, s := range want {
		if got := fs.Lookup(name).Value.String(); got != s {
			t.Errorf("--%s = %q after the config file, want %q", name, got, s)
		}
	}
}

// The example config shipped for systemd installs must load as is.
func TestShippedAgentConfigLoads(t *testing.T) {
	fs := newAgentCmd().Flags()
	if err := agent.ApplyConfigFile("../../deploy/systemd/agent.yaml", fs); err != nil {
		t.Fatal(err)
	}
	if got := fs.Lookup("join").Value.String(); !strings.Contains(got, "192.168.56.12:7946") {
		t.Fatalf("join = %s", got)
	}
}
