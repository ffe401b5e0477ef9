package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shoal-dev/shoal/deploy/lab"
)

// newLabCmd is `shoal lab`: a whole fleet on this host, one network
// namespace per node.
func newLabCmd() *cobra.Command {
	var stateRoot string
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run a whole shoal fleet on this host in network namespaces",
	}
	cmd.PersistentFlags().StringVar(&stateRoot, "state-root", lab.DefaultStateRoot, "where labs keep their state")
	cmd.AddCommand(
		newLabUpCmd(&stateRoot),
		newLabEnvCmd(&stateRoot),
		newLabDownCmd(&stateRoot),
		newLabExecCmd(&stateRoot),
		newLabLsCmd(&stateRoot),
		newLabKubeconfigCmd(&stateRoot),
	)
	cmd.AddCommand(newLabFaultCmds(&stateRoot)...) // cmd/shoal/labkill.go
	cmd.AddCommand(newLabChaosCmd(&stateRoot))     // cmd/shoal/labchaos.go
	return cmd
}

func newLabUpCmd(stateRoot *string) *cobra.Command {
	var cfg lab.Config
	cmd := &cobra.Command{
		Use:   "up NAME --nodes N",
		Short: "Build a lab fleet and wait until it has a leader and all nodes are Ready",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Name = args[0]
			cfg.StateRoot = *stateRoot
			cfg.Progress = cmd.ErrOrStderr()
			l, err := lab.Up(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "lab %s is up: %d nodes on %s, API at %s\n", l.Name, len(l.Nodes), l.LabCIDR, l.Nodes[0].APIURL())
			fmt.Fprintf(out, "point the CLI at it:  eval \"$(shoal lab env %s)\"\n", l.Name)
			fmt.Fprintf(out, "remove it:            shoal lab down %s\n", l.Name)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Nodes, "nodes", 3, "number of nodes")
	f.StringVar(&cfg.Containerd, "containerd", "", "address of an existing containerd (default: start the lab's own)")
	f.StringSliceVar(&cfg.NodeMemory, "node-memory", nil, "memory per node, the last repeats (default 2Gi)")
	f.StringSliceVar(&cfg.NodeCPU, "node-cpu", nil, "cpu per node, the last repeats (default 2)")
	f.IntVar(&cfg.Servers, "servers", 0, "Raft seats (default min(3, nodes))")
	f.IntVar(&cfg.MaxPods, "max-pods", 0, "pods each node takes (default: the agent's, 110)")
	f.StringArrayVar(&cfg.AgentArgs, "agent-arg", nil, "extra agent flag for every node, e.g. --agent-arg=--image-gc-high-threshold=1; repeatable")
	f.StringVar(&cfg.LabCIDR, "lab-cidr", "", "node address range (default: a free 10.250.X.0/24)")
	f.StringVar(&cfg.PodCIDR, "pod-cidr", "", "pod address range (default 10.244.0.0/16)")
	f.StringVar(&cfg.ServiceCIDR, "service-cidr", "", "Service ClusterIP range (default 10.96.0.0/16)")
	f.StringVar(&cfg.AgentBinary, "agent-binary", "", "shoal binary the nodes run (default: this one)")
	f.DurationVar(&cfg.ReadyTimeout, "timeout", 2*time.Minute, "how long to wait for a leader and Ready nodes")
	f.BoolVar(&cfg.KeepOnFailure, "keep-on-failure", false, "leave a failed lab in place to read its logs")
	f.BoolVar(&cfg.Machines, "machines", false, "run every node as a Debian 12 systemd machine installed by deploy/vagrant/provision.sh, as the Vagrant VMs are (needs systemd-container and debootstrap)")
	f.StringVar(&cfg.MachineCache, "machine-cache", lab.DefaultMachineCache, "where the machines' Debian root is built once and kept")
	f.StringVar(&cfg.MachineMirror, "machine-mirror", "", "Debian mirror for the machines' root (default: the one this host's apt uses)")
	f.BoolVar(&cfg.MachineTLS, "machine-tls", false, "with --machines: TLS on the API and Raft, as SHOAL_TLS=1 vagrant up")
	f.BoolVar(&cfg.TLS, "tls", false, "TLS on the agents' API and Raft with certificates from shoal tls (not with --machines)")
	return cmd
}

func newLabEnvCmd(stateRoot *string) *cobra.Command {
	return &cobra.Command{
		Use:   "env NAME",
		Short: "Print the shell exports that point the CLI at a lab",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := lab.Load(*stateRoot, args[0])
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), l.Env())
			return nil
		},
	}
}

func newLabDownCmd(stateRoot *string) *cobra.Command {
	return &cobra.Command{
		Use:   "down NAME",
		Short: "Remove everything a lab made (safe to repeat)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := lab.Down(cmd.Context(), *stateRoot, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "lab %s is down\n", args[0])
			return nil
		},
	}
}

func newLabExecCmd(stateRoot *string) *cobra.Command {
	return &cobra.Command{
		Use:   "exec NAME NODE -- CMD [ARG...]",
		Short: "Run a command inside a lab node's network namespace",
		Args: func(cmd *cobra.Command, args []string) error {
			// The command's own flags must come after "--" or they would be
			// taken for ours.
			if len(args) < 3 || (cmd.ArgsLenAtDash() >= 0 && cmd.ArgsLenAtDash() != 2) {
				return fmt.Errorf("usage: shoal lab exec NAME NODE -- CMD [ARG...]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := lab.Load(*stateRoot, args[0])
			if err != nil {
				return err
			}
			return l.Run(cmd.Context(), args[1], args[2:], cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
}

func newLabLsCmd(stateRoot *string) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List the labs on this host",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			labs, err := lab.List(*stateRoot)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tNODES\tLAB CIDR\tAPI\tCONTAINERD\tCREATED")
			for _, l := range labs {
				api := ""
				if len(l.Nodes) > 0 {
					api = l.Nodes[0].APIURL()
				}
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", l.Name, len(l.Nodes), l.LabCIDR, api, l.Containerd, l.CreatedAt.Format(time.RFC3339))
			}
			return w.Flush()
		},
	}
}
