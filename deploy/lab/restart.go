package lab

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// RestartAgent crashes node's agent with SIGKILL, as kill -9 would, and
// starts it again on its data dir with the shoal binary running this code
// (as Heal does). Unlike Kill it leaves the node's pods and shims running:
// the new agent must adopt them without restarting any.
func RestartAgent(ctx context.Context, stateRoot, name, node string) error {
	l, n, err := loadNode(stateRoot, name, node)
	if err != nil {
		return err
	}
	if l.Machines {
		// systemd restarts it (Restart=always), as on a VM.
		out, err := machineOutput(ctx, n, "systemctl", "kill", "--signal=SIGKILL", "shoal-agent")
		if err != nil {
			return fmt.Errorf("lab %s restart %s: %v: %s", name, node, err, out)
		}
		return nil
	}
	pids := agentPIDs(n)
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			return fmt.Errorf("lab %s restart %s: kill agent %d: %w", name, node, pid, err)
		}
	}
	if !waitGone(ctx, pids, 10*time.Second) {
		return fmt.Errorf("lab %s restart %s: the agent survived SIGKILL", name, node)
	}
	return restartAgent(l, n)
}
