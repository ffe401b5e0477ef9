package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shoal-dev/shoal/deploy/lab"
)

// newLabFaultCmds are the chaos verbs: kill, partition and heal one node.
func newLabFaultCmds(stateRoot *string) []*cobra.Command {
	fault := func(use, short, done string, fn func(ctx context.Context, stateRoot, name, node string) error) *cobra.Command {
		return &cobra.Command{
			Use:   use + " NAME NODE",
			Short: short,
			Args:  cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := fn(cmd.Context(), *stateRoot, args[0], args[1]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "lab %s: %s %s\n", args[0], args[1], done)
				return nil
			},
		}
	}
	return []*cobra.Command{
		fault("kill", "Cut a node's power: SIGKILL its agent and its pods' processes, leave its namespaces as they are", "killed", lab.Kill),
		fault("partition", "Cut a node off the lab network; its agent and pods keep running", "partitioned", lab.Partition),
		fault("heal", "Reconnect a partitioned node and restart a killed node's agent on its old data dir", "healed", lab.Heal),
		fault("restart", "kill -9 a node's agent and start it again; its pods keep running and are adopted", "agent restarted", lab.RestartAgent),
	}
}
