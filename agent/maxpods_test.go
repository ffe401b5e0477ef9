package agent

import (
	"strings"
	"testing"
)

func TestValidateMaxPods(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Name, cfg.BindAddr, cfg.DataDir, cfg.MaxPods = "n1", "127.0.0.1", t.TempDir(), -1
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "max-pods -1") {
		t.Fatalf("Validate with max-pods -1: %v", err)
	}
}
