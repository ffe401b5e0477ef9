package lab

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// On a root host with systemd-nspawn installed the probe starts its
// container and says the host can run machines; it leaves no tree and no
// nspawn directory behind. A probe broken on a host that runs machines
// would skip the machines e2e there, so it must not fail here.
func TestCanRunMachinesTriesNspawn(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, tool := range []string{"systemd-nspawn", "debootstrap", "nsenter"} {
		if _, err := lookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	before, _ := filepath.Glob(filepath.Join(os.TempDir(), "shoal-nspawn-probe-*"))
	if err := CanRunMachines(context.Background()); err != nil {
		t.Fatalf("CanRunMachines on a root host with systemd-nspawn: %v", err)
	}
	after, _ := filepath.Glob(filepath.Join(os.TempDir(), "shoal-nspawn-probe-*"))
	if len(after) > len(before) {
		t.Errorf("probe trees left: %v", after)
	}
	if _, err := os.Stat(propagateDir("shoal-nspawn-probe-" + strconv.Itoa(os.Getpid()))); err == nil {
		t.Error("the probe's nspawn directory is left")
	}
}

// A container whose program fails fails the probe, with what it said.
func TestNspawnRunsReportsAFailure(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := lookPath("systemd-nspawn"); err != nil {
		t.Skip("needs systemd-nspawn")
	}
	err := nspawnRuns(context.Background(), "/usr/bin/sh", "-c", "echo no-way-here >&2; exit 3")
	if err == nil || !strings.Contains(err.Error(), "no-way-here") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("nspawnRuns of a failing program: %v", err)
	}
}
