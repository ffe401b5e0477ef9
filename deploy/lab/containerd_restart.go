package lab

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// A containerd restart, as a package upgrade or a crash makes one on a
// machine: the daemon goes, the shims and the containers they run stay,
// and the containerd that comes back finds its tasks again from its state
// dir. The agents lose their containerd connection for that time and must
// neither lose nor double a pod. A lab runs one containerd for all its
// nodes (each node has its own containerd namespace), so the restart hits
// every node at once; a per-node containerd would make it one node's.

var errNotOwnContainerd = errors.New("the lab does not run its own containerd (a shared host containerd is never restarted, and a machine's goes with the machine)")

// KillContainerd stops lab name's containerd with SIGKILL, as a crash
// would, and waits until it is gone; its shims and containers go on.
// StartContainerd brings it back.
func KillContainerd(ctx context.Context, stateRoot, name string) error {
	l, err := Load(stateRoot, name)
	if err != nil {
		return err
	}
	if !l.OwnContainerd || l.Machines {
		return fmt.Errorf("lab %s kill containerd: %w", name, errNotOwnContainerd)
	}
	pid := l.ContainerdPID
	if !alive(pid) || !mentionsDir(pid, l.Dir) {
		return fmt.Errorf("lab %s kill containerd: pid %d is not the lab's running containerd", name, pid)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("lab %s kill containerd %d: %w", name, pid, err)
	}
	if !waitGone(ctx, []int{pid}, 10*time.Second) {
		return fmt.Errorf("lab %s kill containerd: %d survived SIGKILL", name, pid)
	}
	return nil
}

// ContainerdRunning reports whether lab name's own containerd runs.
func ContainerdRunning(stateRoot, name string) (bool, error) {
	l, err := Load(stateRoot, name)
	if err != nil {
		return false, err
	}
	return alive(l.ContainerdPID) && mentionsDir(l.ContainerdPID, l.Dir), nil
}

// StartContainerd starts lab name's own containerd again on its root and
// state dirs and waits until it answers; nothing when it runs.
func StartContainerd(ctx context.Context, stateRoot, name string) error {
	l, err := Load(stateRoot, name)
	if err != nil {
		return err
	}
	if !l.OwnContainerd || l.Machines {
		return fmt.Errorf("lab %s start containerd: %w", name, errNotOwnContainerd)
	}
	if alive(l.ContainerdPID) && mentionsDir(l.ContainerdPID, l.Dir) {
		return nil
	}
	pid, err := startContainerd(ctx, ownContainerd(l.Dir))
	if pid > 0 {
		l.ContainerdPID = pid
		if serr := l.save(); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	if err != nil {
		return fmt.Errorf("lab %s start containerd: %w", name, err)
	}
	return nil
}
