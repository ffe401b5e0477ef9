package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// agentGrace is how long agents and containerd get to stop after SIGTERM.
const agentGrace = 10 * time.Second

// Down removes everything lab name made: agents, containerd state, the
// lab's own containerd and its shims, mounts, namespaces (the guest's
// too, with whatever runs in it), the host link and the state directory. It works from names alone when the state file is
// missing (a half-failed Up), is safe to run twice, and goes on after an
// error, returning all of them joined.
func Down(ctx context.Context, stateRoot, name string) error {
	if err := ValidateName(name); err != nil {
		return fmt.Errorf("lab down: %w", err)
	}
	if stateRoot == "" {
		stateRoot = DefaultStateRoot
	}
	stateRoot, err := filepath.Abs(stateRoot)
	if err != nil {
		return fmt.Errorf("lab down %s: state root: %w", name, err)
	}
	dir := stateDir(stateRoot, name)
	l, err := Load(stateRoot, name)
	if err != nil {
		l = nil // go by names
	}

	var errs []error
	note := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	nodeNS, podNS := ownedNetns(name)

	// Machines first: each powers off with its agent, containerd and
	// containers inside.
	note(wrap("stop machines", stopMachines(ctx, dir, machineGrace)))

	// Agents first, so none of them re-creates what the rest removes.
	agents := processesInNetns(netnsPaths(nodeNS))
	if l != nil {
		for _, n := range l.Nodes {
			if n.PID > 0 && mentionsDir(n.PID, dir) {
				agents = append(agents, n.PID)
			}
		}
	}
	note(wrap("stop agents", stopProcesses(ctx, agents, agentGrace)))

	note(cleanLabContainerd(ctx, l, dir, name))

	// The lab's own containerd, its shims, and whatever still runs in the
	// lab's namespaces (containers of pods, lab exec leftovers).
	started := processesMentioningDir(dir)
	sockets := ShimSockets(started)
	note(wrap("stop containerd", stopProcesses(ctx, started, agentGrace)))
	all := append(append([]string{}, podNS...), nodeNS...)
	// The guest (AttachGuest, or one a test made by hand under that
	// name): what runs in it is stopped like any leftover, and it goes
	// before the lab namespace its veth is plugged into.
	if netnsExists(GuestNetns(name)) {
		all = append(all, GuestNetns(name))
	}
	if netnsExists(labNetns(name)) {
		all = append(all, labNetns(name))
	}
	leftovers := append(processesInNetns(netnsPaths(all)), processesMentioningDir(dir)...)
	sockets = append(sockets, ShimSockets(leftovers)...)
	note(wrap("stop leftover processes", stopProcesses(ctx, leftovers, time.Second)))
	note(removeShimSockets(sockets))

	note(unmountUnder(dir))
	// What nspawn left on the host, and the machines' cgroups (their
	// views under dir are unmounted by now).
	note(removeMachineRemnants(name))

	// Pod namespaces before node namespaces before the lab's: the reverse of
	// how they were made.
	for _, ns := range all {
		note(deleteNetns(ns))
	}
	link := hostLinkName(name)
	if l != nil && l.HostLink != "" {
		link = l.HostLink
	}
	note(deleteHostLink(link))

	if err := os.RemoveAll(dir); err != nil {
		note(fmt.Errorf("remove state dir: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lab down %s: %w", name, err)
	}
	return nil
}

// cleanLabContainerd empties the lab's containerd namespaces. The lab's own
// containerd is only asked if it still runs: its whole state goes with the
// state dir anyway.
func cleanLabContainerd(ctx context.Context, l *Lab, dir, name string) error {
	own := ownContainerd(dir)
	addr, isOwn := own.socket, true
	if l != nil {
		addr, isOwn = l.Containerd, l.OwnContainerd
	}
	if l != nil && l.Machines {
		return nil // each machine's containerd went with it
	}
	if isOwn {
		if len(processesMentioningDir(dir)) == 0 {
			return nil
		}
		if l != nil && l.ContainerdPID > 0 && !(alive(l.ContainerdPID) && mentionsDir(l.ContainerdPID, dir)) {
			return nil // killed (KillContainerd) and not started again: only its shims are left
		}
		if _, err := os.Stat(addr); err != nil {
			return nil
		}
	}
	return wrap("containerd", cleanContainerd(ctx, addr, name))
}

// ownedNetns lists the lab's node namespaces and the pod namespaces their
// agents made, pods sorted first.
func ownedNetns(name string) (nodes, pods []string) {
	all, _ := listNetns()
	re := ownedNetnsRE(name)
	for _, ns := range all {
		if !re.MatchString(ns) {
			continue
		}
		rest := strings.TrimPrefix(ns, labNetns(name)+"-")
		if strings.Contains(rest, "-") {
			pods = append(pods, ns)
		} else {
			nodes = append(nodes, ns)
		}
	}
	sort.Strings(nodes)
	sort.Strings(pods)
	return nodes, pods
}

func netnsPaths(names []string) []string {
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = filepath.Join(netnsDir, n)
	}
	return paths
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
