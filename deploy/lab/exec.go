package lab

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"

	"github.com/shoal-dev/shoal/netplane/nsthread"
)

// Exec runs argv inside node's network namespace and returns its combined
// output. Only the network namespace changes: files are the host's.
func (l *Lab) Exec(ctx context.Context, node string, argv []string) ([]byte, error) {
	var out bytes.Buffer
	err := l.Run(ctx, node, argv, nil, &out, &out)
	return out.Bytes(), err
}

// Run runs argv inside node's network namespace with the given stdio and
// waits for it. Cancelling ctx kills it. On a machines lab it runs inside
// the node's machine (all its namespaces, its files), as a root shell in
// a VM would.
func (l *Lab) Run(ctx context.Context, node string, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(argv) == 0 {
		return fmt.Errorf("lab %s exec on %s: empty command", l.Name, node)
	}
	n, err := l.Node(node)
	if err != nil {
		return err
	}
	if l.Machines {
		cmd, err := machineCommand(ctx, n, nil, argv)
		if err != nil {
			return fmt.Errorf("lab %s exec on %s: %w", l.Name, node, err)
		}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("lab %s exec on %s: %s: %w", l.Name, node, argv[0], err)
		}
		return nil
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	if err := nsthread.Run(filepath.Join(netnsDir, n.Netns), cmd.Start); err != nil {
		return fmt.Errorf("lab %s exec on %s: start %s: %w", l.Name, node, argv[0], err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("lab %s exec on %s: %s: %w", l.Name, node, argv[0], err)
	}
	return nil
}
