package podruntime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/containerd/errdefs"
)

// ContainerUsage is what a container's cgroup has counted, read at Time:
// kubectl top's figures once two readings give a CPU rate.
type ContainerUsage struct {
	Name string
	// CPU is the CPU time used since the container started.
	CPU time.Duration
	// WorkingSet is the memory in use minus the inactive file cache, as
	// the kubelet (cAdvisor) counts it.
	WorkingSet int64
	Time       time.Time
}

// Usage reads the cgroup counters of a pod's running containers (cgroup v2,
// else v1); a container that is not running is left out.
func (r *Runtime) Usage(ctx context.Context, podUID string, containers []string) ([]ContainerUsage, error) {
	ctx = r.withNS(ctx)
	var out []ContainerUsage
	for _, name := range containers {
		cont, err := r.client.LoadContainer(ctx, containerID(podUID, name))
		if errdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("usage of container %s of pod %s: %w", name, podUID, err)
		}
		spec, err := cont.Spec(ctx)
		if err != nil || spec.Linux == nil || spec.Linux.CgroupsPath == "" {
			continue
		}
		u, ok := cgroupUsage("/sys/fs/cgroup", filepath.Clean("/"+spec.Linux.CgroupsPath))
		if !ok {
			continue
		}
		u.Name = name
		out = append(out, u)
	}
	return out, nil
}

// cgroupUsage reads one cgroup's CPU time and working set, under the
// cgroup file system mounted at root.
func cgroupUsage(root, cg string) (ContainerUsage, bool) {
	now := time.Now()
	if usec, ok := counter(filepath.Join(root, cg, "cpu.stat"), "usage_usec"); ok { // v2
		cur, ok := number(filepath.Join(root, cg, "memory.current"))
		if !ok {
			return ContainerUsage{}, false
		}
		inactive, _ := counter(filepath.Join(root, cg, "memory.stat"), "inactive_file")
		return ContainerUsage{CPU: time.Duration(usec) * time.Microsecond, WorkingSet: max(cur-inactive, 0), Time: now}, true
	}
	var nanos int64
	var ok bool
	for _, dir := range []string{"cpu,cpuacct", "cpuacct"} {
		if nanos, ok = number(filepath.Join(root, dir, cg, "cpuacct.usage")); ok {
			break
		}
	}
	if !ok {
		return ContainerUsage{}, false
	}
	cur, ok := number(filepath.Join(root, "memory", cg, "memory.usage_in_bytes"))
	if !ok {
		return ContainerUsage{}, false
	}
	inactive, _ := counter(filepath.Join(root, "memory", cg, "memory.stat"), "total_inactive_file")
	return ContainerUsage{CPU: time.Duration(nanos), WorkingSet: max(cur-inactive, 0), Time: now}, true
}

// number reads a cgroup file holding one integer.
func number(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil
}
