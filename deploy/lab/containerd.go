package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/containerd"
)

// maxSocketPath is the longest unix socket path Linux accepts, minus room for
// the ".ttrpc" suffix containerd adds for its second socket.
const maxSocketPath = 107 - len(".ttrpc")

// ownContainerdPaths are where the lab's own containerd keeps everything.
type ownContainerdPaths struct {
	dir, root, state, config, socket, log string
}

func ownContainerd(labDir string) ownContainerdPaths {
	d := filepath.Join(labDir, "containerd")
	return ownContainerdPaths{
		dir:    d,
		root:   filepath.Join(d, "root"),
		state:  filepath.Join(d, "state"),
		config: filepath.Join(d, "config.toml"),
		socket: filepath.Join(d, "containerd.sock"),
		log:    filepath.Join(d, "containerd.log"),
	}
}

// containerdConfig disables CRI: the lab's containerd serves shoal agents,
// not a kubelet, and CRI would fight the host's for its ports.
func containerdConfig(p ownContainerdPaths) string {
	return fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %q

[ttrpc]
  address = %q
`, p.root, p.state, p.socket, p.socket+".ttrpc")
}

// startContainerd starts the lab's own containerd in the host namespace,
// detached, and waits until it answers on its socket.
func startContainerd(ctx context.Context, p ownContainerdPaths) (int, error) {
	if len(p.socket) > maxSocketPath {
		return 0, fmt.Errorf("containerd socket path %s is longer than %d bytes: use a shorter state root", p.socket, maxSocketPath)
	}
	bin, err := lookPath("containerd")
	if err != nil {
		return 0, err
	}
	for _, d := range []string{p.root, p.state} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return 0, fmt.Errorf("containerd dir: %w", err)
		}
	}
	if err := os.WriteFile(p.config, []byte(containerdConfig(p)), 0o644); err != nil {
		return 0, fmt.Errorf("containerd config: %w", err)
	}
	argv := []string{bin, "--config", p.config, "--root", p.root, "--state", p.state, "--address", p.socket}
	pid, err := startDetached("", argv, p.log)
	if err != nil {
		return 0, err
	}
	if err := waitContainerd(ctx, p.socket, pid, 30*time.Second); err != nil {
		return pid, fmt.Errorf("%w (log: %s%s)", err, p.log, tail(p.log, 5))
	}
	return pid, nil
}

// waitContainerd polls the socket until containerd answers, pid dies or
// the timeout passes.
func waitContainerd(ctx context.Context, socket string, pid int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if !alive(pid) {
			return fmt.Errorf("containerd (pid %d) exited during start", pid)
		}
		if _, err := os.Stat(socket); err == nil {
			last = pingContainerd(ctx, socket)
			if last == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("containerd at %s not answering: %w", socket, errors.Join(ctx.Err(), last))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func pingContainerd(ctx context.Context, addr string) error {
	c, err := containerd.New(addr, containerd.WithTimeout(2*time.Second))
	if err != nil {
		return fmt.Errorf("connect containerd %s: %w", addr, err)
	}
	defer c.Close()
	if _, err := c.Version(ctx); err != nil {
		return fmt.Errorf("containerd %s version: %w", addr, err)
	}
	return nil
}

func lookPath(name string) (string, error) {
	for _, dir := range append(filepath.SplitList(os.Getenv("PATH")), "/usr/local/bin", "/usr/bin", "/usr/sbin", "/sbin", "/bin") {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in PATH", name)
}

// tail returns the last n lines of a file, prefixed for an error message.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "; last lines:\n  " + strings.Join(lines, "\n  ")
}
