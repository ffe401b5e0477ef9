package podruntime

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCgroupUsageReadsV2AndV1(t *testing.T) {
	write := func(path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v2 := t.TempDir()
	write(filepath.Join(v2, "k8s/c1/cpu.stat"), "usage_usec 1500000\nuser_usec 1000000\n")
	write(filepath.Join(v2, "k8s/c1/memory.current"), "10485760\n")
	write(filepath.Join(v2, "k8s/c1/memory.stat"), "anon 1\ninactive_file 2097152\n")
	if u, ok := cgroupUsage(v2, "/k8s/c1"); !ok || u.CPU != 1500*time.Millisecond || u.WorkingSet != 8<<20 {
		t.Errorf("v2: %+v %t", u, ok)
	}
	v1 := t.TempDir()
	write(filepath.Join(v1, "cpuacct/k8s/c1/cpuacct.usage"), "2500000000\n")
	write(filepath.Join(v1, "memory/k8s/c1/memory.usage_in_bytes"), "4194304\n")
	write(filepath.Join(v1, "memory/k8s/c1/memory.stat"), "total_inactive_file 5000000\n")
	if u, ok := cgroupUsage(v1, "/k8s/c1"); !ok || u.CPU != 2500*time.Millisecond || u.WorkingSet != 0 {
		t.Errorf("v1 (cache above usage counts as none): %+v %t", u, ok)
	}
	if _, ok := cgroupUsage(t.TempDir(), "/k8s/c1"); ok {
		t.Error("a missing cgroup was read")
	}
}
