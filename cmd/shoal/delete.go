package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shoal-dev/shoal/api"
)

func newDeleteCmd(g *globalFlags) *cobra.Command {
	var files []string
	var cascade string
	var pods podDelete // delete_pod.go
	cmd := &cobra.Command{
		Use:   "delete (pod NAME... | -f FILE)",
		Short: "Delete pods by name or by manifest",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) >= 2 && len(files) == 0 {
				if k := replicatedResource(args[0]); k != nil {
					return deleteReplicatedCmd(cmd, g, k, args[1:], cascade) // cmd/shoal/rc.go
				}
				if isSecretResource(args[0]) {
					return deleteSecrets(cmd.Context(), g, cmd.OutOrStdout(), args[1:]) // cmd/shoal/secret.go
				}
				if isServiceResource(args[0]) {
					return deleteServices(cmd.Context(), g, cmd.OutOrStdout(), args[1:]) // cmd/shoal/service.go
				}
			}
			type target struct{ ns, name string }
			var targets []target
			if len(files) > 0 {
				objs, err := readManifests(files, cmd.InOrStdin())
				if err != nil {
					return err
				}
				for _, obj := range objs {
					if r := obj; api.IsReplicated(obj) {
						if err := deleteReplicatedObject(cmd, g, r, cascade); err != nil { // cmd/shoal/rc.go
							return err
						}
						continue
					}
					if s, ok := obj.(*api.Secret); ok {
						ns, err := objectNamespace(obj, g.namespace)
						if err != nil {
							return err
						}
						if ns == "" {
							ns = api.DefaultNamespace
						}
						if err := deleteSecretNamed(cmd.Context(), g, cmd.OutOrStdout(), ns, s.ObjectMeta.Name); err != nil {
							return err
						}
						continue
					}
					if s, ok := obj.(*api.Service); ok {
						ns, err := objectNamespace(obj, g.namespace)
						if err != nil {
							return err
						}
						if ns == "" {
							ns = api.DefaultNamespace
						}
						if err := deleteServiceNamed(cmd.Context(), g, cmd.OutOrStdout(), ns, s.ObjectMeta.Name); err != nil {
							return err
						}
						continue
					}
					if _, ok := obj.(*api.Pod); !ok {
						return fmt.Errorf("%s %s: cannot be deleted with shoal delete", api.TypeMetaOf(obj).Kind, api.MetaOf(obj).Name)
					}
					ns, err := objectNamespace(obj, g.namespace)
					if err != nil {
						return err
					}
					targets = append(targets, target{ns, api.MetaOf(obj).Name})
				}
			} else {
				if len(args) < 2 || !isPodResource(args[0]) {
					return fmt.Errorf("usage: shoal delete pod NAME... or shoal delete -f FILE")
				}
				ns := g.namespace
				if ns == "" {
					ns = api.DefaultNamespace
				}
				for _, n := range args[1:] {
					targets = append(targets, target{ns, n})
				}
			}
			for _, t := range targets {
				if err := pods.deletePod(cmd.Context(), g, cmd.OutOrStdout(), t.ns, t.name); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVarP(&files, "filename", "f", nil, "manifest file, directory, or - for standard input")
	pods.addFlags(cmd)
	cmd.Flags().StringVar(&cascade, "cascade", "background", "for rc|rs: background deletes its pods too, orphan leaves them running")
	return cmd
}

func isPodResource(s string) bool {
	switch strings.ToLower(s) {
	case "pod", "pods", "po":
		return true
	}
	return false
}
