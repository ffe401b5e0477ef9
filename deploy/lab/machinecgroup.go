package lab

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// On a host that does not run systemd (this lab's usual home: a container
// or a CI runner) nobody gives a machine a cgroup of its own, and a machine
// handed the host's whole cgroup tree makes its systemd treat the host's
// root cgroup as its own: every machine's shoal-agent.service would share
// one cgroup, so stopping a unit in one machine could kill another's. So
// each machine gets its own cgroup in every hierarchy, below the cgroup
// of the process that starts it (shoal-machines/MACHINE), starts in it
// (nspawn then gives the machine a cgroup namespace rooted there), and
// sees only that subtree, writable, at /sys/fs/cgroup: runc inside can
// make container cgroups, systemd inside sees a root of its own, and lab
// down removes the subtree.

const cgroupFS = "/sys/fs/cgroup"

// cgroupBind is one hierarchy of a machine's cgroup: the host directory,
// where the machine sees it, and where nspawn puts the machine's processes
// (systemd-nspawn moves them one level down, into "payload", in the
// hierarchies systemd itself tracks them with).
type cgroupBind struct {
	host, inner string
	payload     bool
}

// hostRunsSystemd: the host's systemd (and machined) give machines their
// scope and delegate their cgroup; nspawn is then run the ordinary way.
func hostRunsSystemd() bool {
	_, err := os.Stat("/run/systemd/system")
	return err == nil
}

// machineCgroupBases lists, per hierarchy of this process, the directory
// holding the machines' cgroups, and where a machine sees that hierarchy.
// It returns nil when the host's cgroups are pure v2 (one hierarchy that
// nspawn delegates by itself).
func machineCgroupBases() ([]cgroupBind, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("read own cgroups: %w", err)
	}
	defer f.Close()
	var out []cgroupBind
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		ctrls, path := parts[1], parts[2]
		name, payload := ctrls, false
		switch {
		case ctrls == "":
			name, payload = "unified", true
		case ctrls == "name=systemd":
			name, payload = "systemd", true
		case strings.HasPrefix(ctrls, "name="):
			continue // a named hierarchy nobody inside uses
		}
		dir := filepath.Join(cgroupFS, name)
		if _, err := os.Stat(filepath.Join(dir, "cgroup.procs")); err != nil {
			if ctrls == "" && len(out) == 0 {
				return nil, nil // pure v2: /sys/fs/cgroup itself
			}
			continue
		}
		out = append(out, cgroupBind{host: filepath.Join(dir, path, "shoal-machines"), inner: filepath.Join(cgroupFS, name), payload: payload})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read own cgroups: %w", err)
	}
	return out, nil
}

// makeMachineCgroups creates machine's cgroup in every hierarchy, binds
// each (the part the machine sees) into view/NAME, and returns the bind to
// give systemd-nspawn (view as the machine's /sys/fs/cgroup; nspawn leaves
// a /sys/fs/cgroup that is already a mount alone) and the cgroup.procs
// files the starting process must write itself into.
func makeMachineCgroups(machine, view string) (binds []string, procs []string, err error) {
	bases, err := machineCgroupBases()
	if err != nil || bases == nil {
		return nil, nil, err
	}
	// A tmpfs, like the /sys/fs/cgroup of a host: nspawn remounts it
	// read-only with tmpfs options. A machine booted again after a power
	// cut finds the old view still mounted.
	if err := unmountUnder(view); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(view, 0o755); err != nil {
		return nil, nil, fmt.Errorf("machine cgroup view: %w", err)
	}
	if err := unix.Mount("tmpfs", view, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755,size=64k"); err != nil {
		return nil, nil, fmt.Errorf("machine cgroup view %s: %w", view, err)
	}
	for _, b := range bases {
		dir := filepath.Join(b.host, machine)
		src := dir
		if b.payload {
			src = filepath.Join(dir, "payload")
		}
		if err := os.MkdirAll(src, 0o755); err != nil {
			return nil, nil, fmt.Errorf("machine cgroup %s: %w", src, err)
		}
		if filepath.Base(b.inner) == "cpuset" {
			// A v1 cpuset cgroup takes no process until it has CPUs and
			// memory nodes: copy them down from the parent.
			for _, d := range []string{b.host, dir} {
				for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
					v, err := os.ReadFile(filepath.Join(filepath.Dir(d), file))
					if err == nil {
						_ = os.WriteFile(filepath.Join(d, file), v, 0o644)
					}
				}
			}
		}
		target := filepath.Join(view, filepath.Base(b.inner))
		if err := os.MkdirAll(target, 0o755); err != nil {
			return nil, nil, fmt.Errorf("machine cgroup view: %w", err)
		}
		if err := unix.Mount(src, target, "", unix.MS_BIND, ""); err != nil {
			return nil, nil, fmt.Errorf("bind machine cgroup %s: %w", src, err)
		}
		procs = append(procs, filepath.Join(dir, "cgroup.procs"))
	}
	if strings.ContainsAny(view, ":, ") {
		return nil, nil, fmt.Errorf("machine cgroup view %s: a path with ':', ',' or ' ' cannot be bound", view)
	}
	return []string{"--bind=" + view + ":" + cgroupFS}, procs, nil
}

// machineCgroups lists the cgroup directories of lab name's machines.
func machineCgroups(name string) []string {
	bases, _ := machineCgroupBases()
	re := ownedContainerdNSRE(name) // shoal-NAME-nK, as machine names are
	var out []string
	for _, b := range bases {
		entries, _ := os.ReadDir(b.host)
		for _, e := range entries {
			if e.IsDir() && re.MatchString(e.Name()) {
				out = append(out, filepath.Join(b.host, e.Name()))
			}
		}
	}
	return out
}

// removeCgroupTree removes dir and the cgroups below it, deepest first. A
// cgroup directory goes with rmdir once no process is in it.
func removeCgroupTree(dir string) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("walk cgroup %s: %w", dir, err)
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	var errs []error
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}
