package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
)

func newGetCmd(g *globalFlags) *cobra.Command {
	var (
		output, selector string
		all, watch       bool
	)
	cmd := &cobra.Command{
		Use:   "get (pods|nodes|rc|rs|secrets|svc) [NAME]",
		Short: "List pods, nodes, ReplicationControllers, ReplicaSets, Secrets or Services",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch output {
			case "", "wide", "json", "yaml", "name":
			default:
				return fmt.Errorf("--output %q: must be one of json, yaml, wide, name", output)
			}
			c := g.client()
			ctx := cmd.Context()
			q := url.Values{}
			if selector != "" {
				q.Set("labelSelector", selector)
			}
			if watch {
				return watchResource(ctx, c, cmd.OutOrStdout(), args, g.namespace, all, output, q) // cmd/shoal/watch.go
			}
			var items []any
			var rows [][]string
			var header []string
			switch {
			case isPodResource(args[0]):
				ns := g.namespace
				if ns == "" && !all {
					ns = api.DefaultNamespace
				}
				pods, err := getPods(c, cmd, ns, args[1:], q)
				if err != nil {
					return err
				}
				header = []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}
				if all {
					header = append([]string{"NAMESPACE"}, header...)
				}
				if output == "wide" {
					header = append(header, "IP", "NODE")
				}
				for i := range pods {
					p := &pods[i]
					p.APIVersion, p.Kind = "v1", "Pod"
					items = append(items, p)
					rows = append(rows, podRow(p, all, output == "wide"))
				}
			case isNodeResource(args[0]):
				var nodes []api.Node
				if len(args) == 2 {
					var n api.Node
					if err := c.getJSON(ctx, "/api/v1/nodes/"+url.PathEscape(args[1]), &n); err != nil {
						return err
					}
					nodes = []api.Node{n}
				} else {
					var l api.NodeList
					if err := c.getJSON(ctx, "/api/v1/nodes?"+q.Encode(), &l); err != nil {
						return err
					}
					nodes = l.Items
				}
				// kubectl's five columns, then the block and what placement
				// counts as taken (requested/allocatable).
				header = []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION", "POD-BLOCK", "CPU", "MEMORY", "PODS"}
				if output == "wide" {
					header = append(header, "INTERNAL-IP")
				}
				for i := range nodes {
					n := &nodes[i]
					n.APIVersion, n.Kind = "v1", "Node"
					items = append(items, n)
					rows = append(rows, nodeRow(n, output == "wide"))
				}
			case replicatedResource(args[0]) != nil:
				ns := g.namespace
				if ns == "" && !all {
					ns = api.DefaultNamespace
				}
				views, err := getReplicated(ctx, c, replicatedResource(args[0]), ns, args[1:], q)
				if err != nil {
					return err
				}
				if items, header, rows, err = replicatedTable(views, all); err != nil { // cmd/shoal/rc.go
					return err
				}
			case isSecretResource(args[0]):
				ns := g.namespace
				if ns == "" && !all {
					ns = api.DefaultNamespace
				}
				var err error
				if items, header, rows, err = getSecrets(ctx, c, ns, args[1:], q, all); err != nil { // cmd/shoal/secret.go
					return err
				}
			case isServiceResource(args[0]):
				ns := g.namespace
				if ns == "" && !all {
					ns = api.DefaultNamespace
				}
				var err error
				if items, header, rows, err = getServices(ctx, c, ns, args[1:], q, all, output == "wide"); err != nil { // cmd/shoal/service.go
					return err
				}
			default:
				return fmt.Errorf("unknown resource type %q: shoal serves pods, nodes, rc, rs, secrets and svc", args[0])
			}
			return printObjects(cmd.OutOrStdout(), output, args[0], items, header, rows)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: json, yaml, wide or name")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "label selector, e.g. app=web,tier!=db")
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list across all namespaces")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "after listing, print each change as it happens (until interrupted)")
	return cmd
}

func getPods(c *client, cmd *cobra.Command, ns string, names []string, q url.Values) ([]api.Pod, error) {
	if len(names) == 1 {
		if ns == "" {
			ns = api.DefaultNamespace
		}
		var p api.Pod
		if err := c.getJSON(cmd.Context(), podPath(ns, names[0]), &p); err != nil {
			return nil, err
		}
		return []api.Pod{p}, nil
	}
	var l api.PodList
	if err := c.getJSON(cmd.Context(), podsPath(ns)+"?"+q.Encode(), &l); err != nil {
		return nil, err
	}
	return l.Items, nil
}

func isNodeResource(s string) bool {
	switch strings.ToLower(s) {
	case "node", "nodes", "no":
		return true
	}
	return false
}

// printObjects prints in the chosen format; json and yaml print a
// Kubernetes List as kubectl does (a single object when one was named).
func printObjects(w io.Writer, output, resource string, items []any, header []string, rows [][]string) error {
	if items == nil {
		// An empty list is "items": [] as the server sends it and kubectl
		// prints it; null breaks `jq '.items[]'`.
		items = []any{}
	}
	var doc any = map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]string{"resourceVersion": ""}, "items": items}
	if len(items) == 1 && !strings.HasSuffix(strings.ToLower(resource), "s") {
		doc = items[0]
	}
	switch output {
	case "json":
		b, err := json.MarshalIndent(doc, "", "    ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	case "yaml":
		b, err := yaml.Marshal(doc)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case "name":
		for _, r := range rows {
			kind := "pod"
			if isNodeResource(resource) {
				kind = "node"
			}
			if k := replicatedResource(resource); k != nil {
				kind = k.short
			}
			if isSecretResource(resource) {
				kind = "secret"
			}
			if isServiceResource(resource) {
				kind = "service"
			}
			name := r[0]
			if len(header) > 0 && header[0] == "NAMESPACE" {
				name = r[1]
			}
			fmt.Fprintf(w, "%s/%s\n", kind, name)
		}
		return nil
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "No resources found.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// podRow is the pod's row of the shared printer (api/printers), the one
// kubectl's Table shows too: NAME READY STATUS RESTARTS AGE, then IP and
// NODE when wide.
func podRow(p *api.Pod, withNS, wide bool) []string {
	cells := printers.Pod(p, time.Now())
	n := 5
	if wide {
		n = 7
	}
	row := make([]string, 0, n+1)
	if withNS {
		row = append(row, p.ObjectMeta.Namespace)
	}
	for _, c := range cells[:n] {
		row = append(row, fmt.Sprint(c))
	}
	return row
}

// podDisplayStatus is the STATUS column of the shared printer.
func podDisplayStatus(p *api.Pod) string {
	return fmt.Sprint(printers.Pod(p, time.Now())[2])
}

// nodeRow is the node's row of the shared printer (api/printers), the one
// kubectl's Table shows too, in shoal's own order: kubectl's five columns,
// then the pod block and what placement counts as taken
// (requested/allocatable), then INTERNAL-IP when wide.
func nodeRow(n *api.Node, wide bool) []string {
	cells := printers.Node(n, time.Now())
	cols := []int{0, 1, 2, 3, 4, 10, 11, 12, 13}
	if wide {
		cols = append(cols, 5)
	}
	row := make([]string, len(cols))
	for i, c := range cols {
		row[i] = fmt.Sprint(cells[c])
	}
	return row
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
