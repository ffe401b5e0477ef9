package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/shoal-dev/shoal/deploy/lab/chaos"
	"github.com/shoal-dev/shoal/podruntime/ociarchive"
)

// newLabChaosCmd is `shoal lab chaos`: build a lab, run a seeded fault
// schedule against it while checking the fleet's invariants, remove it,
// and fail on any violation.
func newLabChaosCmd(stateRoot *string) *cobra.Command {
	var cfg chaos.Config
	var busybox string
	var plan int
	cmd := &cobra.Command{
		Use:   "chaos NAME --duration D --seed S",
		Short: "Build a lab and run a reproducible fault schedule against it, checking invariants; exit non-zero on any violation",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if plan > 0 {
				s := chaos.NewSchedule(cfg.Seed, chaos.MaxReplicas)
				for range plan {
					fmt.Fprintln(cmd.OutOrStdout(), s.Next())
				}
				return nil
			}
			if cfg.Nodes < 3 {
				return fmt.Errorf("--nodes %d: the schedule needs at least 3 (a leader, a follower and a client)", cfg.Nodes)
			}
			if cfg.Duration <= 0 {
				return fmt.Errorf("--duration %v: must be positive", cfg.Duration)
			}
			cfg.Name, cfg.StateRoot, cfg.Log = args[0], *stateRoot, cmd.ErrOrStderr()
			dir, err := os.MkdirTemp("", "shoal-chaos-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			cfg.ImageArchive, cfg.Image = filepath.Join(dir, "busybox.tar"), "shoal.local/chaos-busybox:1"
			f, err := os.Create(cfg.ImageArchive)
			if err != nil {
				return err
			}
			err = ociarchive.BuildBusybox(f, cfg.Image, busybox)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("build the workload's busybox image: %w", err)
			}
			rep, err := chaos.Run(cmd.Context(), cfg)
			if rep != nil {
				rep.Print(cmd.OutOrStdout())
			}
			if err != nil {
				return err
			}
			if n := rep.TotalViolations(); n > 0 {
				return fmt.Errorf("chaos: %d invariant violation(s) with seed %d", n, cfg.Seed)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.DurationVar(&cfg.Duration, "duration", 5*time.Minute, "start no new fault episode after this long (the last one finishes)")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed of the fault schedule: the same seed replays the same schedule")
	f.IntVar(&cfg.Nodes, "nodes", 5, "nodes in the lab (3 hold Raft seats)")
	f.DurationVar(&cfg.Bound, "bound", 2*time.Minute, "how long the fleet may take to recover after a fault or heal before it counts as a violation")
	f.BoolVar(&cfg.Keep, "keep", false, "leave the lab up at the end (skips the leak check)")
	f.IntVar(&plan, "plan", 0, "print the first N episodes of the seed's schedule and exit (builds no lab)")
	f.StringVar(&busybox, "busybox", "/bin/busybox", "static busybox binary for the workload's image")
	return cmd
}
