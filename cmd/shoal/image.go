package main

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shoal-dev/shoal/podruntime/ociarchive"
)

func newImageCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Manage the images on the fleet's nodes"}
	var node string
	importCmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import an OCI or Docker image archive into every node (or one with --node)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			q := url.Values{}
			if node != "" {
				q.Set("node", node)
			}
			var res struct {
				Images []string          `json:"images"`
				Nodes  map[string]string `json:"nodes"`
			}
			if err := g.client().do(cmd.Context(), "POST", "/shoal/v1/images?"+q.Encode(), f, "application/x-tar", &res); err != nil {
				return fmt.Errorf("import %s: %w", args[0], err)
			}
			failed := 0
			for n, st := range res.Nodes {
				if st != "ok" {
					failed++
					fmt.Fprintf(cmd.ErrOrStderr(), "node %s: %s\n", n, st)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %s into %d node(s)\n", strings.Join(res.Images, ", "), len(res.Nodes)-failed)
			if failed > 0 {
				return fmt.Errorf("import failed on %d node(s)", failed)
			}
			return nil
		},
	}
	importCmd.Flags().StringVar(&node, "node", "", "import into this node only")

	lsCmd := &cobra.Command{
		Use:   "ls",
		Short: "List the images of a node",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if node != "" {
				q.Set("node", node)
			}
			var res struct {
				Images []string `json:"images"`
			}
			if err := g.client().getJSON(cmd.Context(), "/shoal/v1/images?"+q.Encode(), &res); err != nil {
				return err
			}
			for _, im := range res.Images {
				fmt.Fprintln(cmd.OutOrStdout(), im)
			}
			return nil
		},
	}
	lsCmd.Flags().StringVar(&node, "node", "", "the node to list (default: the agent answering)")

	var out, ref, busybox string
	var imageCmd, adds []string
	buildCmd := &cobra.Command{
		Use:   "build-busybox -o FILE",
		Short: "Write an OCI image archive holding Debian's busybox-static, for fleets with no registry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			if len(imageCmd) == 0 {
				imageCmd = []string{"sh"}
			}
			var extra []ociarchive.File
			for _, a := range adds {
				x, err := ociarchive.ParseFile(a)
				if err != nil {
					f.Close()
					os.Remove(out)
					return err
				}
				extra = append(extra, x)
			}
			if err := ociarchive.BuildBusyboxWith(f, ref, busybox, imageCmd, extra); err != nil {
				f.Close()
				os.Remove(out)
				return fmt.Errorf("build busybox image: %w", err)
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%s)\n", out, ref)
			return nil
		},
	}
	buildCmd.Flags().StringVarP(&out, "output", "o", "busybox.tar", "archive to write")
	buildCmd.Flags().StringVar(&ref, "ref", "shoal.local/busybox:1", "image name inside the archive")
	buildCmd.Flags().StringVar(&busybox, "busybox", "/bin/busybox", "static busybox binary to package")
	buildCmd.Flags().StringArrayVar(&imageCmd, "cmd", nil, "the image's command, one flag per word (default sh)")
	buildCmd.Flags().StringArrayVar(&adds, "add", nil, "SRC:DST: put host file SRC at DST in the image (in /bin, /usr/bin, /etc or /www; /bin/NAME replaces that applet); repeatable")

	rmCmd := &cobra.Command{
		Use:   "rm NAME",
		Short: "Remove an image from every node (or one with --node); a node where a container uses it keeps it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{"name": {args[0]}}
			if node != "" {
				q.Set("node", node)
			}
			var res struct {
				Images []string          `json:"images"`
				Nodes  map[string]string `json:"nodes"`
			}
			if err := g.client().do(cmd.Context(), "DELETE", "/shoal/v1/images?"+q.Encode(), nil, "", &res); err != nil {
				return fmt.Errorf("remove %s: %w", args[0], err)
			}
			removed, failed := 0, 0
			for n, st := range res.Nodes {
				switch {
				case st == "ok":
					removed++
				case strings.Contains(st, "image not present on node"):
				default:
					failed++
					fmt.Fprintf(cmd.ErrOrStderr(), "node %s: %s\n", n, st)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %s from %d node(s)\n", args[0], removed)
			if failed > 0 {
				return fmt.Errorf("remove failed on %d node(s)", failed)
			}
			return nil
		},
	}
	rmCmd.Flags().StringVar(&node, "node", "", "remove from this node only")

	cmd.AddCommand(importCmd, lsCmd, rmCmd, buildCmd)
	return cmd
}
