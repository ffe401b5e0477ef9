package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shoal-dev/shoal/api"
)

func newScaleCmd(g *globalFlags) *cobra.Command {
	var replicas int32
	cmd := &cobra.Command{
		Use:   "scale (rc|rs) NAME --replicas N",
		Short: "Set the number of replicas of a ReplicationController or ReplicaSet",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("replicas") {
				return fmt.Errorf("--replicas is required")
			}
			if replicas < 0 {
				return fmt.Errorf("--replicas %d: must be 0 or more", replicas)
			}
			res, name := args[0], ""
			if len(args) == 2 {
				name = args[1]
			} else if r, n, ok := strings.Cut(args[0], "/"); ok {
				res, name = r, n
			}
			k := replicatedResource(res)
			if k == nil || name == "" {
				return fmt.Errorf("usage: shoal scale rc NAME --replicas N (or rs NAME, or rc/NAME)")
			}
			ns := g.namespace
			if ns == "" {
				ns = api.DefaultNamespace
			}
			c := g.client()
			var sc api.Scale
			if err := c.getJSON(cmd.Context(), k.path(ns, name)+"/scale", &sc); err != nil {
				return fmt.Errorf("scale %s %s: %w", k.short, name, err)
			}
			sc.Spec.Replicas = replicas
			if err := c.sendJSON(cmd.Context(), "PUT", k.path(ns, name)+"/scale", sc, nil); err != nil {
				return fmt.Errorf("scale %s %s: %w", k.short, name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s/%s scaled\n", k.short, name)
			return nil
		},
	}
	cmd.Flags().Int32Var(&replicas, "replicas", 0, "the new number of replicas")
	return cmd
}
