package e2e

import (
	"path/filepath"
	"testing"
	"time"
)

// TestBenchMachinesUp: `shoal lab up --machines` of 3 machines, cold (the
// Debian root built by debootstrap into an empty cache) and warm (the same
// cache again). The power cycle figures come from TestMachinesLab.
func TestBenchMachinesUp(t *testing.T) {
	requireBench(t)
	requireMachines(t)
	cache := filepath.Join(t.TempDir(), "machines")
	for _, run := range []string{"cold", "warm"} {
		t.Run(run, func(t *testing.T) {
			start := time.Now()
			startFleet(t, labName("mchb"), "--nodes", "3", "--machines", "--machine-cache", cache, "--timeout", "4m")
			// One bench name per cache state: the report reads numbers, not labels.
			record(t, "machines-up-"+run, map[string]any{"nodes": 3, "up_s": seconds(time.Since(start))})
		})
	}
}
