package podruntime

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	containerd "github.com/containerd/containerd"
)

// oomKilled tells whether the kernel's OOM killer struck in the container's
// cgroup. It must be asked before the task is deleted (runc removes the
// cgroup then); when it cannot tell it says no.
func oomKilled(ctx context.Context, cont containerd.Container) bool {
	spec, err := cont.Spec(ctx)
	if err != nil || spec.Linux == nil || spec.Linux.CgroupsPath == "" {
		return false
	}
	cg := filepath.Clean("/" + spec.Linux.CgroupsPath)
	// cgroup v2 first, then v1 (whose oom_control counts kills since 4.13).
	if n, ok := counter(filepath.Join("/sys/fs/cgroup", cg, "memory.events"), "oom_kill"); ok {
		return n > 0
	}
	n, ok := counter(filepath.Join("/sys/fs/cgroup/memory", cg, "memory.oom_control"), "oom_kill")
	return ok && n > 0
}

// counter reads "key value" lines as the cgroup files write them.
func counter(path, key string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) == 2 && fields[0] == key {
			n, err := strconv.ParseInt(fields[1], 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
