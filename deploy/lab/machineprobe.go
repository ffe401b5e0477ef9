package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CanRunMachines says why this host cannot run a machines lab, or nil when
// it can: it needs root, the tools, and a systemd-nspawn that can start a
// container here. The last is tried, not guessed: a host that is itself an
// unprivileged container has every tool installed and still cannot make
// the namespaces and mounts a machine needs. The trial runs /usr/bin/true
// in a throwaway tree that borrows the host's /usr read-only, with a
// network namespace of its own holding only loopback; it takes a fraction
// of a second and leaves nothing behind.
func CanRunMachines(ctx context.Context) error {
	if os.Geteuid() != 0 {
		return errors.New("a machines lab needs root")
	}
	for _, tool := range []struct{ name, pkg string }{
		{"systemd-nspawn", "systemd-container"},
		{"debootstrap", "debootstrap"},
		{"nsenter", "util-linux"},
	} {
		if _, err := lookPath(tool.name); err != nil {
			return fmt.Errorf("a machines lab needs %s (apt-get install %s): %w", tool.name, tool.pkg, err)
		}
	}
	return tryNspawn(ctx)
}

// tryNspawn starts one short-lived container with systemd-nspawn the way
// startMachine registers machines on this host.
func tryNspawn(ctx context.Context) error {
	return nspawnRuns(ctx, "/usr/bin/true")
}

// nspawnRuns runs argv (a program of the host's /usr) in a throwaway
// container and says how it failed.
func nspawnRuns(ctx context.Context, argv ...string) error {
	tree, err := os.MkdirTemp("", "shoal-nspawn-probe-")
	if err != nil {
		return fmt.Errorf("nspawn probe: %w", err)
	}
	defer os.RemoveAll(tree)
	// nspawn refuses a tree without /usr; the rest of the top level
	// follows the host's (symlinks into /usr on a merged-/usr system).
	if err := os.Mkdir(filepath.Join(tree, "usr"), 0o755); err != nil {
		return fmt.Errorf("nspawn probe: %w", err)
	}
	args := []string{"--quiet", "--register=no", "--private-network", "--directory=" + tree, "--bind-ro=/usr"}
	if !hostRunsSystemd() {
		args = append(args, "--keep-unit") // no systemd to ask for a scope
	}
	for _, top := range []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"} {
		host := "/" + top
		target, err := os.Readlink(host)
		switch {
		case err == nil:
			if err := os.Symlink(target, filepath.Join(tree, top)); err != nil {
				return fmt.Errorf("nspawn probe: %w", err)
			}
		case errors.Is(err, os.ErrNotExist):
		default: // a directory of its own
			if err := os.Mkdir(filepath.Join(tree, top), 0o755); err != nil {
				return fmt.Errorf("nspawn probe: %w", err)
			}
			args = append(args, "--bind-ro="+host)
		}
	}
	machine := "shoal-nspawn-probe-" + strconv.Itoa(os.Getpid())
	defer os.RemoveAll(propagateDir(machine)) // nspawn's own, left only if it was killed
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "systemd-nspawn", append(append(args, "--machine="+machine), argv...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemd-nspawn cannot start a container on this host: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}
