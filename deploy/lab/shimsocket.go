package lab

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// shimSocketDir is where containerd's runc v2 shims listen, whatever the
// containerd's own state dir: containerd/runtime/v2/shim.SocketAddress
// puts every shim socket under /run/containerd/s. A shim stopped by a
// signal (lab kill, lab down) leaves its socket there, so each kill of a
// node with pods left files in the host's /run.
const shimSocketDir = "/run/containerd/s"

// shimSocket is the socket of the shim started with args, found the way
// containerd names it: the sha256 of address/namespace/id.
func shimSocket(args []string) (string, bool) {
	if len(args) == 0 || !strings.Contains(filepath.Base(args[0]), "containerd-shim") {
		return "", false
	}
	var ns, id, addr string
	for i := 1; i+1 < len(args); i++ {
		switch args[i] {
		case "-namespace":
			ns = args[i+1]
		case "-id":
			id = args[i+1]
		case "-address":
			addr = args[i+1]
		}
	}
	if ns == "" || id == "" || addr == "" {
		return "", false
	}
	return filepath.Join(shimSocketDir, fmt.Sprintf("%x", sha256.Sum256([]byte(filepath.Join(addr, ns, id))))), true
}

// ShimSockets lists the sockets of the shims among pids (the e2e Swarm
// reference lab's containerds name theirs the same way).
func ShimSockets(pids []int) []string {
	var out []string
	for _, pid := range pids {
		if s, ok := shimSocket(argv(pid)); ok {
			out = append(out, s)
		}
	}
	return out
}

// ShimSocketsOfNode lists the sockets of the shims node of lab runs now.
func ShimSocketsOfNode(lab, node string) []string {
	return ShimSockets(shimsOfNamespace(containerdNS(lab, node)))
}

// removeShimSockets removes the sockets of shims that were stopped.
func removeShimSockets(paths []string) error {
	var errs []error
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove shim socket: %w", err))
		}
	}
	return errors.Join(errs...)
}
