package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Measurements shared by shoal's lab benchmarks (bench_test.go) and the
// Docker Swarm reference (ref_swarm_test.go), so both record the same
// figures the same way.

// recordStart records one start run: pods started on nodes, the time
// until all ran (total) and the p50/p99 of when each was first seen
// running.
func recordStart(t *testing.T, bench string, run, pods, nodes int, seen map[string]time.Duration, total time.Duration) {
	t.Helper()
	var lat []time.Duration
	for _, d := range seen {
		lat = append(lat, d)
	}
	slices.Sort(lat)
	record(t, bench, map[string]any{
		"run": run, "pods": pods, "nodes": nodes,
		"total_s": seconds(total), "p50_s": seconds(quantile(lat, 0.5)), "p99_s": seconds(quantile(lat, 0.99)),
	})
}

// netbenchImage builds bench/netbench static and packages it as image ref
// (an OCI archive) with shoal's busybox image builder, which packages any
// static binary as /bin/busybox. It returns the tool and the archive.
func netbenchImage(t *testing.T, ref string) (tool, archive string) {
	t.Helper()
	tool = filepath.Join(t.TempDir(), "netbench")
	build := exec.Command("go", "build", "-o", tool, "../bench/netbench")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build netbench: %v\n%s", err, out)
	}
	archive = filepath.Join(t.TempDir(), "netbench.tar")
	if out, err := exec.Command(shoalBin, "image", "build-busybox", "-o", archive, "--ref", ref, "--busybox", tool).CombinedOutput(); err != nil {
		t.Fatalf("build netbench image: %v\n%s", err, out)
	}
	return tool, archive
}

// netbenchRuns measures TCP throughput and round trips to target through
// inside (netbench run where the system under test puts it), and the same
// between two bare namespaces joined by one veth pair, and records each
// run as bench: the cost of the system's network is the ratio. Runs
// alternate inside and bare: one stream on a shared 2-core machine swings
// with whatever else runs.
func netbenchRuns(t *testing.T, bench, tool, target string, inside func(args ...string) map[string]float64) {
	t.Helper()
	base := newVethPair(t)
	serveCmd := exec.Command("ip", "netns", "exec", base.b, tool, "serve", base.ipB+":5201")
	if err := serveCmd.Start(); err != nil {
		t.Fatalf("start baseline server: %v", err)
	}
	t.Cleanup(func() { _ = serveCmd.Process.Kill(); _ = serveCmd.Wait() })
	bare := func(args ...string) map[string]float64 {
		var out []byte
		var err error
		waitFor(t, "baseline server answers", func() bool {
			out, err = exec.Command("ip", append([]string{"netns", "exec", base.a, tool}, args...)...).Output()
			return err == nil
		})
		return parseTool(t, string(out))
	}
	secs := os.Getenv("SHOAL_BENCH_TPUT_SECONDS")
	if secs == "" {
		secs = "5"
	}
	for run := 1; run <= benchRuns(t, 5); run++ {
		in := inside("tput", target, secs)
		out := bare("tput", base.ipB+":5201", secs)
		inRR := inside("rr", target, "20000", "1")
		outRR := bare("rr", base.ipB+":5201", "20000", "1")
		record(t, bench, map[string]any{
			"run":           run,
			"pod_gbit_s":    in["gbit_per_s"],
			"veth_gbit_s":   out["gbit_per_s"],
			"ratio":         in["gbit_per_s"] / out["gbit_per_s"],
			"pod_rr_p50_us": inRR["p50_us"], "pod_rr_p99_us": inRR["p99_us"], "pod_rr_per_s": inRR["per_s"],
			"veth_rr_p50_us": outRR["p50_us"], "veth_rr_p99_us": outRR["p99_us"], "veth_rr_per_s": outRR["per_s"],
		})
	}
}

// procMemMB reads one memory line of /proc/PID/status (VmRSS, RssAnon,
// RssFile) in MB, to a tenth.
func procMemMB(pid int, field string) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status %s %q: %w", pid, field, v, err)
			}
			return float64(int(kb/1024*10)) / 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}

// procCPU is the user and system time of pid from /proc/PID/stat (fields
// 14 and 15, in clock ticks of 1/100 s on Linux).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; fields count from after ")".
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	var ticks int64
	for _, i := range []int{11, 12} { // utime, stime: fields 14 and 15 overall
		v, err := strconv.ParseInt(fields[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat field %d %q: %w", pid, i+3, fields[i], err)
		}
		ticks += v
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// cpuWindow is how long the footprint benchmarks measure idle CPU
// (SHOAL_BENCH_CPU_SECONDS, default a minute).
func cpuWindow(t *testing.T) time.Duration {
	t.Helper()
	s := os.Getenv("SHOAL_BENCH_CPU_SECONDS")
	if s == "" {
		return 60 * time.Second
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("SHOAL_BENCH_CPU_SECONDS=%q: want a positive integer", s)
	}
	return time.Duration(n) * time.Second
}
