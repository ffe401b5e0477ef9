package agent

import (
	"strings"
	"testing"
)

func TestServiceCIDRIsValidatedAndMayNotOverlapThePodNetwork(t *testing.T) {
	for cidr, want := range map[string]string{
		"":              "",
		"10.96.0.0/16":  "",
		"10.97.0.0/24":  "",
		"10.96.0.0":     "service-cidr",
		"fd00::/108":    "must be IPv4",
		"10.96.0.0/30":  "between /12 and /28",
		"10.244.0.0/20": "overlaps the pod network",
		"10.0.0.0/8":    "between /12 and /28",
		"10.240.0.0/12": "overlaps the pod network",
	} {
		cfg := DefaultConfig()
		cfg.Name, cfg.BindAddr, cfg.DataDir, cfg.ServiceCIDR = "n1", "127.0.0.1", t.TempDir(), cidr
		err := cfg.Validate()
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v, want valid", cidr, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: %v, want an error saying %q", cidr, err, want)
		}
	}
}
