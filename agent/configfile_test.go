package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestConfigFileSetsEveryFlagKindAndFlagsWin(t *testing.T) {
	cfg := DefaultConfig()
	var labels []string
	fs := pflag.NewFlagSet("agent", pflag.ContinueOnError)
	fs.StringVar(&cfg.Name, "name", "", "")
	fs.StringVar(&cfg.BindAddr, "bind-addr", cfg.BindAddr, "")
	fs.IntVar(&cfg.APIPort, "api-port", cfg.APIPort, "")
	fs.IntVar(&cfg.BootstrapExpect, "bootstrap-expect", 0, "")
	fs.BoolVar(&cfg.Server, "server", false, "")
	fs.StringSliceVar(&cfg.Join, "join", nil, "")
	fs.StringSliceVar(&labels, "labels", nil, "")
	fs.DurationVar(&cfg.ResyncInterval, "resync", cfg.ResyncInterval, "")
	if err := fs.Parse([]string{"--name", "from-flag", "--join", "10.0.0.9:7946"}); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "agent.yaml", `
name: from-file
bind-addr: 192.168.56.11
api-port: 8080
bootstrap-expect: 3
server: true
join: [192.168.56.12:7946]
labels: {zone: a, "example.com/disk": ssd}
resync: 5s
`)
	if err := ApplyConfigFile(file, fs); err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "from-flag" || strings.Join(cfg.Join, ",") != "10.0.0.9:7946" {
		t.Errorf("flags given on the command line lost to the file: name %q join %v", cfg.Name, cfg.Join)
	}
	if cfg.BindAddr != "192.168.56.11" || cfg.APIPort != 8080 || cfg.BootstrapExpect != 3 || !cfg.Server || cfg.ResyncInterval != 5*time.Second {
		t.Errorf("file values not applied: %+v", cfg)
	}
	if strings.Join(labels, ",") != "example.com/disk=ssd,zone=a" {
		t.Errorf("labels = %v", labels)
	}
}

func TestConfigFileNamesUnknownKeysAndBadValues(t *testing.T) {
	var port int
	fs := pflag.NewFlagSet("agent", pflag.ContinueOnError)
	fs.IntVar(&port, "api-port", 7080, "")
	file := writeFile(t, "agent.yaml", "api-prot: 1\napi-port: seventy\n")
	err := ApplyConfigFile(file, fs)
	if err == nil || !strings.Contains(err.Error(), `unknown key "api-prot"`) || !strings.Contains(err.Error(), "api-port") {
		t.Fatalf("err = %v", err)
	}
}
