package lab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Kill cuts the power of node: SIGKILL to its agent, to the processes of
// its pods and to the containerd shims of its containerd namespace, all at
// once, so nobody gets to clean up or report (on a machines lab: to the
// machine's init, which takes everything in the machine with it). Namespaces, mounts and
// containerd's records stay as a power cut leaves them; Heal restarts the
// agent on its old data dir.
func Kill(ctx context.Context, stateRoot, name, node string) error {
	l, err := Load(stateRoot, name)
	if err != nil {
		return err
	}
	n, err := l.Node(node)
	if err != nil {
		return err
	}
	if l.Machines {
		if err := powerOffMachine(ctx, n); err != nil {
			return fmt.Errorf("lab %s kill %s: %w", name, node, err)
		}
		return nil
	}
	victims := nodeProcesses(l, n)
	if len(victims) == 0 {
		return fmt.Errorf("lab %s kill %s: nothing of the node is running", name, node)
	}
	sockets := ShimSockets(victims)
	for _, pid := range victims {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if !waitGone(ctx, victims, 10*time.Second) {
		return fmt.Errorf("lab %s kill %s: processes survived SIGKILL", name, node)
	}
	if err := removeShimSockets(sockets); err != nil {
		return fmt.Errorf("lab %s kill %s: %w", name, node, err)
	}
	return nil
}

// nodeProcesses is everything a power cut of node stops: its agent, the
// processes in its pods' network namespaces, and its containerd shims.
func nodeProcesses(l *Lab, n Node) []int {
	seen := map[int]bool{}
	var pids []int
	add := func(pid int) {
		if pid > 0 && !seen[pid] && alive(pid) {
			seen[pid] = true
			pids = append(pids, pid)
		}
	}
	for _, pid := range agentPIDs(n) {
		add(pid)
	}
	var podNS []string
	all, _ := listNetns()
	for _, ns := range all {
		if strings.HasPrefix(ns, podNetnsPrefix(l.Name, n.Name)) {
			podNS = append(podNS, filepath.Join(netnsDir, ns))
		}
	}
	for _, pid := range processesInNetns(podNS) {
		add(pid)
	}
	for _, pid := range shimsOfNamespace(containerdNS(l.Name, n.Name)) {
		add(pid)
	}
	return pids
}

// agentPIDs finds the node's agent by its data dir, which no other process
// is started with, whether the lab or Heal started it.
func agentPIDs(n Node) []int {
	var pids []int
	for _, pid := range allPIDs() {
		args := argv(pid)
		if len(args) < 2 || args[1] != "agent" {
			continue
		}
		for i, a := range args {
			if (a == "--data-dir" && i+1 < len(args) && args[i+1] == n.DataDir) || a == "--data-dir="+n.DataDir {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// shimsOfNamespace lists the containerd shims serving containerd namespace
// ns (started as `containerd-shim-runc-v2 -namespace NS ...`).
func shimsOfNamespace(ns string) []int {
	var pids []int
	for _, pid := range allPIDs() {
		args := argv(pid)
		if len(args) == 0 || !strings.Contains(filepath.Base(args[0]), "containerd-shim") {
			continue
		}
		for i, a := range args {
			if a == "-namespace" && i+1 < len(args) && args[i+1] == ns {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func argv(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
}
