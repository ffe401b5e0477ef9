package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shoal-dev/shoal/api"
)

func newApplyCmd(g *globalFlags) *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|-",
		Short: "Create or update the objects of manifests",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, err := readManifests(files, cmd.InOrStdin())
			if err != nil {
				return err
			}
			c := g.client()
			for _, obj := range objs {
				verb, err := applyObject(cmd.Context(), c, obj, g.namespace)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s/%s %s\n", strings.ToLower(api.TypeMetaOf(obj).Kind), api.MetaOf(obj).Name, verb)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVarP(&files, "filename", "f", nil, "manifest file, directory, or - for standard input")
	return cmd
}

// applyObject creates the object, or replaces it when it exists.
func applyObject(ctx context.Context, c *client, obj api.Object, nsFlag string) (string, error) {
	if n, ok := obj.(*api.Namespace); ok {
		return applyNamespace(ctx, c, n) // cmd/shoal/namespace.go
	}
	ns, err := objectNamespace(obj, nsFlag)
	if err != nil {
		return "", err
	}
	if r := obj; api.IsReplicated(obj) {
		return applyReplicated(ctx, c, r, ns) // cmd/shoal/rc.go
	}
	if s, ok := obj.(*api.Secret); ok {
		return applySecret(ctx, c, s, ns) // cmd/shoal/secret.go
	}
	if cm, ok := obj.(*api.ConfigMap); ok {
		return applyConfigMap(ctx, c, cm, ns) // cmd/shoal/configmap.go
	}
	if s, ok := obj.(*api.Service); ok {
		return applyService(ctx, c, s, ns) // cmd/shoal/service.go
	}
	if ds, ok := obj.(*api.DaemonSet); ok {
		return applyDaemonSet(ctx, c, ds, ns) // cmd/shoal/daemonset.go
	}
	switch obj.(type) {
	case *api.Job, *api.CronJob:
		return applyBatch(ctx, c, obj, ns) // cmd/shoal/job.go
	}
	kind := api.TypeMetaOf(obj).Kind
	if err := api.ControllerManaged(kind); err != nil {
		return "", fmt.Errorf("%s %s: cannot be applied: %w", kind, api.MetaOf(obj).Name, err)
	}
	pod, ok := obj.(*api.Pod)
	if !ok {
		return "", fmt.Errorf("%s %s: cannot be applied (nodes register themselves)", kind, api.MetaOf(obj).Name)
	}
	err = c.sendJSON(ctx, "POST", podsPath(ns), pod, nil)
	if err == nil {
		return "created", nil
	}
	if !isReason(err, "AlreadyExists") {
		return "", fmt.Errorf("create pod %s: %w", pod.ObjectMeta.Name, err)
	}
	var current api.Pod
	if err := c.getJSON(ctx, podPath(ns, pod.ObjectMeta.Name), &current); err != nil {
		return "", err
	}
	pod.ObjectMeta.ResourceVersion = current.ObjectMeta.ResourceVersion
	if err := c.sendJSON(ctx, "PUT", podPath(ns, pod.ObjectMeta.Name), pod, nil); err != nil {
		return "", fmt.Errorf("update pod %s: %w", pod.ObjectMeta.Name, err)
	}
	return "configured", nil
}
