package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Partition cuts node off the lab bridge: its bridge port goes down, so it
// reaches no other node (and the host cannot reach it), while its agent
// and pods keep running.
func Partition(ctx context.Context, stateRoot, name, node string) error {
	l, n, err := loadNode(stateRoot, name, node)
	if err != nil {
		return err
	}
	return setBridgePort(l, n, false)
}

// Heal undoes Partition and Kill: the node's bridge port comes up, and an
// agent that is not running is started again on its old data dir (on a
// machines lab: a machine that is off boots again, and its systemd starts
// the agent).
func Heal(ctx context.Context, stateRoot, name, node string) error {
	l, n, err := loadNode(stateRoot, name, node)
	if err != nil {
		return err
	}
	if err := setBridgePort(l, n, true); err != nil {
		return err
	}
	if l.Machines {
		return bootMachineAgain(l, n)
	}
	if len(agentPIDs(n)) > 0 {
		return nil
	}
	return restartAgent(l, n)
}

// Partitioned reports whether node's bridge port is down.
func (l *Lab) Partitioned(node string) (bool, error) {
	n, err := l.Node(node)
	if err != nil {
		return false, err
	}
	var up bool
	err = withLabHandle(l, func(h *netlink.Handle) error {
		link, err := h.LinkByName(bridgePortName(n.Name))
		if err != nil {
			return fmt.Errorf("find %s: %w", bridgePortName(n.Name), err)
		}
		up = link.Attrs().Flags&1 != 0 // net.FlagUp
		return nil
	})
	return !up, err
}

func loadNode(stateRoot, name, node string) (*Lab, Node, error) {
	l, err := Load(stateRoot, name)
	if err != nil {
		return nil, Node{}, err
	}
	n, err := l.Node(node)
	if err != nil {
		return nil, Node{}, err
	}
	return l, n, nil
}

func withLabHandle(l *Lab, f func(*netlink.Handle) error) error {
	ns, err := netns.GetFromName(l.Netns)
	if err != nil {
		return fmt.Errorf("open lab netns %s: %w", l.Netns, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", l.Netns, err)
	}
	defer h.Close()
	return f(h)
}

func setBridgePort(l *Lab, n Node, up bool) error {
	return withLabHandle(l, func(h *netlink.Handle) error {
		link, err := h.LinkByName(bridgePortName(n.Name))
		if err != nil {
			return fmt.Errorf("lab %s node %s: find bridge port %s: %w", l.Name, n.Name, bridgePortName(n.Name), err)
		}
		set, what := h.LinkSetDown, "down"
		if up {
			set, what = h.LinkSetUp, "up"
		}
		if err := set(link); err != nil {
			return fmt.Errorf("lab %s node %s: set bridge port %s %s: %w", l.Name, n.Name, link.Attrs().Name, what, err)
		}
		return nil
	})
}

// restartAgent starts node's agent again with the command line Up gave it
// and its old data dir, as a machine that powers back on does.
func restartAgent(l *Lab, n Node) error {
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("lab %s restart %s: find the shoal binary: %w", l.Name, n.Name, err)
	}
	pid, err := startDetached(filepath.Join(netnsDir, n.Netns), agentArgs(bin, l, n), n.Log)
	if err != nil {
		return fmt.Errorf("lab %s restart %s: %w", l.Name, n.Name, err)
	}
	for i := range l.Nodes {
		if l.Nodes[i].Name == n.Name {
			l.Nodes[i].PID = pid
		}
	}
	return l.save()
}
