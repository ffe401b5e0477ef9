package lab

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultMachineCache is where the machines' Debian root is built once and
// kept, so that only the first `lab up --machines` on a host pays for
// debootstrap.
const DefaultMachineCache = "/var/cache/shoal/machines"

// machineSuite is the Debian release of the Vagrant box (debian/bookworm64).
const machineSuite = "bookworm"

// machineBasePackages boot the root as a systemd machine; what a shoal node
// needs on top comes from provision.sh's own package list.
var machineBasePackages = []string{"systemd", "systemd-sysv", "dbus", "procps"}

// provisionPackagesRE finds the `packages="..."` line of provision.sh.
var provisionPackagesRE = regexp.MustCompile(`(?m)^packages="([a-z0-9 .+-]+)"$`)

// machinePackages is what the root holds: the base, and every package
// provision.sh would install, since the machines have no route to a mirror.
func machinePackages(script []byte) ([]string, error) {
	m := provisionPackagesRE.FindSubmatch(script)
	if m == nil {
		return nil, errors.New(`provision.sh has no packages="..." line: the machines cannot know what to preinstall`)
	}
	return append(append([]string{}, machineBasePackages...), strings.Fields(string(m[1]))...), nil
}

// hostMirror is the Debian mirror this host's apt uses for the main suite,
// read from deb822 sources (debian.sources) or a one-line sources.list.
func hostMirror(aptDir string) (string, error) {
	if uri, err := deb822Mirror(filepath.Join(aptDir, "sources.list.d", "debian.sources")); err == nil && uri != "" {
		return uri, nil
	}
	f, err := os.Open(filepath.Join(aptDir, "sources.list"))
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// deb [options] URI SUITE COMPONENTS...
			if len(fields) >= 3 && fields[0] == "deb" {
				rest := fields[1:]
				if strings.HasPrefix(rest[0], "[") {
					for len(rest) > 0 && !strings.HasSuffix(rest[0], "]") {
						rest = rest[1:]
					}
					rest = rest[1:]
				}
				if len(rest) >= 2 && rest[1] == machineSuite {
					return rest[0], nil
				}
			}
		}
	}
	return "", fmt.Errorf("no apt source for Debian %s in %s: give the mirror with --machine-mirror", machineSuite, aptDir)
}

// deb822Mirror returns the first URI of a stanza whose Suites list the
// release itself (not -security or -updates).
func deb822Mirror(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, stanza := range strings.Split(string(data), "\n\n") {
		var uris, suites []string
		for _, line := range strings.Split(stanza, "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok || strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			switch strings.TrimSpace(k) {
			case "URIs":
				uris = strings.Fields(v)
			case "Suites":
				suites = strings.Fields(v)
			}
		}
		for _, s := range suites {
			if s == machineSuite && len(uris) > 0 {
				return uris[0], nil
			}
		}
	}
	return "", nil
}

// machineRootKey names a root by what went into it, so a changed package
// list or mirror builds a new one instead of reusing a stale one.
func machineRootKey(mirror string, packages []string) string {
	sum := sha256.Sum256([]byte(machineSuite + "\n" + mirror + "\n" + strings.Join(packages, ",")))
	return machineSuite + "-" + hex.EncodeToString(sum[:])[:12]
}

// ensureMachineRoot returns the cached root for these packages, building
// it with debootstrap when it is missing. The build goes to a scratch
// directory renamed into place at the end, so a failed or interrupted build
// is never taken for a root; a lock file serializes two labs building at
// once.
func ensureMachineRoot(ctx context.Context, cache, mirror string, packages []string, progress io.Writer) (string, bool, error) {
	root := filepath.Join(cache, machineRootKey(mirror, packages))
	if _, err := os.Stat(filepath.Join(root, "sbin", "init")); err == nil {
		return root, false, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", false, fmt.Errorf("machine cache %s: %w", cache, err)
	}
	lock, err := os.OpenFile(filepath.Join(cache, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", false, fmt.Errorf("machine cache lock: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return "", false, fmt.Errorf("machine cache lock: %w", err)
	}
	if _, err := os.Stat(filepath.Join(root, "sbin", "init")); err == nil {
		return root, false, nil // another lab built it while we waited
	}
	if _, err := lookPath("debootstrap"); err != nil {
		return "", false, err
	}
	scratch := root + ".build"
	if err := os.RemoveAll(scratch); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("remove an old partial root: %w", err)
	}
	fmt.Fprintf(progress, "building the machines' Debian %s root in %s from %s (once; later labs reuse it)\n", machineSuite, root, mirror)
	logPath := root + ".log"
	logf, err := os.Create(logPath)
	if err != nil {
		return "", false, fmt.Errorf("debootstrap log: %w", err)
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, "debootstrap", "--variant=minbase",
		"--include="+strings.Join(packages, ","), machineSuite, scratch, mirror)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Run(); err != nil {
		return "", false, fmt.Errorf("debootstrap %s from %s: %v (log: %s%s)", machineSuite, mirror, err, logPath, tail(logPath, 10))
	}
	if err := prepareMachineRoot(scratch); err != nil {
		return "", false, err
	}
	if err := os.Rename(scratch, root); err != nil {
		return "", false, fmt.Errorf("machine root: %w", err)
	}
	return root, true, nil
}

// prepareMachineRoot makes a fresh root boot quietly in a container:
// no getty fighting over a console nobody reads, an empty machine-id so each
// machine gets its own on first boot.
func prepareMachineRoot(root string) error {
	for _, unit := range []string{"getty.target", "console-getty.service", "systemd-timesyncd.service", "apt-daily.timer", "apt-daily-upgrade.timer"} {
		p := filepath.Join(root, "etc", "systemd", "system", unit)
		_ = os.Remove(p)
		if err := os.Symlink("/dev/null", p); err != nil {
			return fmt.Errorf("machine root: mask %s: %w", unit, err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "machine-id"), nil, 0o444); err != nil {
		return fmt.Errorf("machine root: machine-id: %w", err)
	}
	return nil
}
