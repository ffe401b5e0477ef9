// Command shoal is the one binary of shoal: the agent every machine runs,
// the CLI that talks to any agent, and the lab that runs a fleet on one host.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// globalFlags are the flags every CLI verb shares.
type globalFlags struct {
	addr      string
	namespace string
}

func (g *globalFlags) client() *client { return newClient(g.addr) }

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "shoal",
		Short:         "Run Kubernetes-style pods on a fleet with no separate control plane",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.addr, "addr", "", "address of any shoal agent's API (default $SHOAL_ADDR or http://127.0.0.1:7080)")
	root.PersistentFlags().StringVarP(&g.namespace, "namespace", "n", "", "namespace (default: the manifest's, or \"default\")")
	root.AddCommand(
		newAgentCmd(),
		newApplyCmd(g),
		newCreateCmd(g), // cmd/shoal/secret.go
		newGetCmd(g),
		newDeleteCmd(g),
		newScaleCmd(g),
		newImageCmd(g),
		newLabCmd(),
		newSimCmd(), // cmd/shoal/sim.go
		newLogsCmd(g),
		newExecCmd(g),
		newPortForwardCmd(g),
		newDescribeCmd(g),
		newLabelCmd(g),
		newKeygenCmd(),
		newSnapshotCmd(g),
		newTLSCmd(),
		newKubeconfigCmd(g),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version of shoal",
			Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), "shoal", version) },
		},
	)
	return root
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		// A command run by `shoal lab exec` speaks for itself: pass its
		// exit code through, as ssh and kubectl exec do.
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			os.Exit(ee.ExitCode())
		}
		var ce *exitCodeError
		if errors.As(err, &ce) {
			os.Exit(ce.code)
		}
		fmt.Fprintln(os.Stderr, "error:", err)
		var ae *apiError
		if errors.As(err, &ae) && ae.Status.Code == 404 {
			os.Exit(3)
		}
		os.Exit(1)
	}
}
