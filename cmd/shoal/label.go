package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/shoal-dev/shoal/api"
)

func newLabelCmd(g *globalFlags) *cobra.Command {
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "label pod NAME KEY=VALUE... [KEY-]...",
		Short: "Add, change or remove labels of a pod",
		Long: `Add, change (with --overwrite) or remove (KEY-) labels of a pod, as kubectl label does.
A pod whose labels no longer match its controller's selector leaves the controller.`,
		Example: "  shoal label pod web tier=frontend\n  shoal label pod web tier=backend --overwrite\n  shoal label pod web tier-",
		Args:    cobra.MinimumNArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !isPodResource(args[0]) {
				return fmt.Errorf("shoal label: only pods can be labeled, not %q", args[0])
			}
			set, remove, err := parseLabelArgs(args[2:])
			if err != nil {
				return err
			}
			ns := g.namespace
			if ns == "" {
				ns = api.DefaultNamespace
			}
			c := g.client()
			// The PUT carries the resourceVersion it read: a write between
			// the read and the PUT is a Conflict, and the read is redone.
			for attempt := 0; ; attempt++ {
				var p api.Pod
				if err := c.getJSON(cmd.Context(), podPath(ns, args[1]), &p); err != nil {
					return fmt.Errorf("label pod %s: %w", args[1], err)
				}
				changed, err := relabel(&p, set, remove, overwrite)
				if err != nil {
					return fmt.Errorf("label pod %s: %w", args[1], err)
				}
				if !changed {
					fmt.Fprintf(cmd.OutOrStdout(), "pod/%s not labeled\n", args[1])
					return nil
				}
				err = c.sendJSON(cmd.Context(), "PUT", podPath(ns, args[1]), &p, nil)
				if isReason(err, "Conflict") && attempt < 3 {
					continue
				}
				if err != nil {
					return fmt.Errorf("label pod %s: %w", args[1], err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "pod/%s labeled\n", args[1])
				return nil
			}
		},
	}
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "allow changing the value of a label that is already set")
	return cmd
}

// parseLabelArgs splits KEY=VALUE (set) from KEY- (remove), checking keys
// and values with Kubernetes' own rules.
func parseLabelArgs(args []string) (set map[string]string, remove []string, err error) {
	set = map[string]string{}
	for _, a := range args {
		if k, ok := strings.CutSuffix(a, "-"); ok && !strings.Contains(a, "=") {
			if errs := validation.IsQualifiedName(k); len(errs) > 0 {
				return nil, nil, fmt.Errorf("label key %q: %s", k, strings.Join(errs, "; "))
			}
			remove = append(remove, k)
			continue
		}
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, nil, fmt.Errorf("%q: want KEY=VALUE or KEY-", a)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, nil, fmt.Errorf("label key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, nil, fmt.Errorf("label %s value %q: %s", k, v, strings.Join(errs, "; "))
		}
		set[k] = v
	}
	return set, remove, nil
}

// relabel applies the change and reports whether anything changed.
func relabel(p *api.Pod, set map[string]string, remove []string, overwrite bool) (bool, error) {
	if p.ObjectMeta.Labels == nil {
		p.ObjectMeta.Labels = map[string]string{}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	changed := false
	for _, k := range keys {
		old, exists := p.ObjectMeta.Labels[k]
		if exists && old == set[k] {
			continue
		}
		if exists && !overwrite {
			return false, fmt.Errorf("label %q already has the value %q, and --overwrite is not given", k, old)
		}
		p.ObjectMeta.Labels[k] = set[k]
		changed = true
	}
	for _, k := range remove {
		if _, ok := p.ObjectMeta.Labels[k]; ok {
			delete(p.ObjectMeta.Labels, k)
			changed = true
		}
	}
	return changed, nil
}
