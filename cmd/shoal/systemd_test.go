package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The unit is checked as systemd reads it. ExecStart points at this test's
// own binary, since systemd-analyze refuses a command that does not exist
// and /usr/local/bin/shoal is there only on an installed machine.
func TestSystemdUnitVerifiesClean(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	unit, err := os.ReadFile("../../deploy/systemd/shoal-agent.service")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "ExecStart=/usr/local/bin/shoal agent --config /etc/shoal/agent.yaml") {
		t.Fatalf("the unit no longer starts /usr/local/bin/shoal agent --config /etc/shoal/agent.yaml; update this test and provision.sh together")
	}
	path := filepath.Join(t.TempDir(), "shoal-agent.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/shoal", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
