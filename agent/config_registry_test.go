package agent

import (
	"strings"
	"testing"
)

func TestRegistryAndImageGCSettingsAreValidated(t *testing.T) {
	base := DefaultConfig()
	base.Name = "n1"
	ok := base
	ok.RegistryMirrors = []string{"http://10.0.0.5:5000", "registry.example:5000=https://mirror.example"}
	ok.InsecureRegistries = []string{"10.250.0.0/16", "plain.example:5000"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid settings refused: %v", err)
	}
	if got := ok.registries().Mirrors; len(got["docker.io"]) != 1 || got["registry.example:5000"][0] != "https://mirror.example" {
		t.Fatalf("mirrors %v: a bare URL mirrors docker.io, REGISTRY=URL that registry", got)
	}
	for _, c := range []struct {
		set  func(*Config)
		want string
	}{
		{func(c *Config) { c.RegistryMirrors = []string{"docker.io=ftp://x"} }, "want an http:// or https:// URL"},
		{func(c *Config) { c.InsecureRegistries = []string{"https://x"} }, "insecure registry"},
		{func(c *Config) { c.RegistryCA = "/nonexistent/ca.pem" }, "registry CA file"},
		{func(c *Config) { c.ImageGCLowPercent = 90 }, "image-gc-low-threshold 90"},
	} {
		cfg := base
		c.set(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one saying %q", err, c.want)
		}
	}
}
