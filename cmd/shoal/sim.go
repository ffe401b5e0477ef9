package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/shoal-dev/shoal/agent"
)

// newSimCmd is `shoal sim`: a fleet of hollow agents in this process, on
// loopback addresses, until interrupted (docs/scale.md).
func newSimCmd() *cobra.Command {
	var (
		nodes, seats                 int
		first, logFile, profile      string
		apiPort, raftPort, gossipPrt int
		maxPods                      int
		compress                     bool
		startEvery                   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run a fleet of hollow agents (real gossip, Raft, API and reconciler; in-memory runtime and network) on loopback",
		Long: `sim runs NODES hollow agents in this process, each on its own loopback
address from --first-addr (127.77.0.1, 127.77.0.2, ...) with the same ports,
the first --seats of them Raft seats. Each is the real agent with an
in-memory container runtime and pod network: pods are placed, bound and
reported Running, and no container, namespace or route is made. Their data
lives in a temporary directory removed when sim stops (Ctrl-C).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if os.Getenv("GOGC") == "" {
				// One heap holds every agent: collect less often than
				// Go's default, at the price of memory the sim has.
				debug.SetGCPercent(400)
			}
			addr, err := netip.ParseAddr(first)
			if err != nil {
				return fmt.Errorf("--first-addr %q: %w", first, err)
			}
			dir, err := os.MkdirTemp("", "shoal-sim-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			cfg := agent.DefaultSimConfig(nodes, dir)
			cfg.Seats, cfg.FirstAddr, cfg.MaxPods = seats, addr, maxPods
			cfg.APIPort, cfg.RaftPort, cfg.GossipPort = apiPort, raftPort, gossipPrt
			cfg.GossipCompression = compress
			cfg.GossipProfile = profile
			if cmd.Flags().Changed("start-every") {
				cfg.StartEvery = startEvery
			}
			if logFile == "" {
				logFile = filepath.Join(dir, "sim.log")
			}
			f, err := os.Create(logFile)
			if err != nil {
				return err
			}
			defer f.Close()
			cfg.Log = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelWarn}))
			s, err := agent.StartSim(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d hollow nodes starting; warnings go to %s\nexport SHOAL_ADDR=%s\n", nodes, logFile, s.API(s.Nodes()[0]))
			<-cmd.Context().Done()
			fmt.Fprintln(cmd.ErrOrStderr(), "stopping the sim")
			return s.Stop()
		},
	}
	f := cmd.Flags()
	f.IntVar(&nodes, "nodes", 10, "hollow nodes to run")
	f.IntVar(&seats, "seats", 0, "Raft seats among them (default 5, or every node of a smaller fleet)")
	f.StringVar(&first, "first-addr", "127.77.0.1", "the first node's address (loopback only); the others follow it")
	f.IntVar(&apiPort, "api-port", 17080, "every node's API port")
	f.IntVar(&raftPort, "raft-port", 17081, "every seat's Raft port")
	f.IntVar(&gossipPrt, "gossip-port", 17946, "every node's gossip port")
	f.IntVar(&maxPods, "max-pods", 110, "pods each node takes")
	f.BoolVar(&compress, "gossip-compression", false, "compress gossip messages, as every agent does by default (off in the sim: it costs CPU all agents here share)")
	f.StringVar(&profile, "gossip-profile", "", "every agent's gossip profile: lan, wan or large (default: lan up to 100 nodes, large above)")
	f.DurationVar(&startEvery, "start-every", 0, "space the clients' starts by this much (the seats start at once; 0: every agent at once; default above 100 nodes: 50µs per node, at least 10ms; else 0)")
	f.StringVar(&logFile, "log", "", "file for the agents' warnings (default: in the temporary directory)")
	return cmd
}
