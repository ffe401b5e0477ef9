package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
)

// replicatedKind is how the CLI reaches RCs or ReplicaSets.
type replicatedKind struct {
	kind, short, apiBase, plural string
}

var (
	rcKind = replicatedKind{kind: api.KindReplicationController, short: "replicationcontroller", apiBase: "/api/v1", plural: "replicationcontrollers"}
	rsKind = replicatedKind{kind: api.KindReplicaSet, short: "replicaset", apiBase: "/apis/apps/v1", plural: "replicasets"}
)

// replicatedResource recognises the names kubectl accepts for RCs and RSs.
func replicatedResource(s string) *replicatedKind {
	switch strings.ToLower(s) {
	case "rc", "rcs", "replicationcontroller", "replicationcontrollers":
		return &rcKind
	case "rs", "replicaset", "replicasets":
		return &rsKind
	}
	return nil
}

func (k *replicatedKind) collection(ns string) string {
	if ns == "" {
		return k.apiBase + "/" + k.plural
	}
	return k.apiBase + "/namespaces/" + url.PathEscape(ns) + "/" + k.plural
}

func (k *replicatedKind) path(ns, name string) string {
	return k.collection(ns) + "/" + url.PathEscape(name)
}

// replicatedView is what the CLI reads of an RC or a ReplicaSet: enough for
// the table, the rest kept verbatim for -o json|yaml.
type replicatedView struct {
	raw      json.RawMessage
	kind     string                          // api.KindReplicationController or api.KindReplicaSet
	Metadata api.ObjectMeta                  `json:"metadata"`
	Status   api.ReplicationControllerStatus `json:"status"`
	Spec     struct {
		Replicas *int32 `json:"replicas"`
	} `json:"spec"`
}

func getReplicated(ctx context.Context, c *client, k *replicatedKind, ns string, names []string, q url.Values) ([]replicatedView, error) {
	var raws []json.RawMessage
	if len(names) == 1 {
		if ns == "" {
			ns = api.DefaultNamespace
		}
		var raw json.RawMessage
		if err := c.getJSON(ctx, k.path(ns, names[0]), &raw); err != nil {
			return nil, err
		}
		raws = append(raws, raw)
	} else {
		var list struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := c.getJSON(ctx, k.collection(ns)+"?"+q.Encode(), &list); err != nil {
			return nil, err
		}
		raws = list.Items
	}
	out := make([]replicatedView, 0, len(raws))
	for _, raw := range raws {
		var v replicatedView
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", k.short, err)
		}
		v.raw, v.kind = raw, k.kind
		out = append(out, v)
	}
	return out, nil
}

// replicatedTable gives the items (for -o json|yaml) and the rows of
// `shoal get rc|rs`: NAME DESIRED CURRENT READY AGE of the shared printer
// (api/printers), the one kubectl's Table shows too.
func replicatedTable(views []replicatedView, withNS bool) (items []any, header []string, rows [][]string, err error) {
	header = []string{"NAME", "DESIRED", "CURRENT", "READY", "AGE"}
	if withNS {
		header = append([]string{"NAMESPACE"}, header...)
	}
	now := time.Now()
	for _, v := range views {
		items = append(items, v.raw)
		var cells []any
		if v.kind == api.KindReplicaSet {
			var rs api.ReplicaSet
			if err := json.Unmarshal(v.raw, &rs); err != nil {
				return nil, nil, nil, fmt.Errorf("decode replicaset %s: %w", v.Metadata.Name, err)
			}
			cells = printers.ReplicaSet(&rs, now)
		} else {
			var rc api.ReplicationController
			if err := json.Unmarshal(v.raw, &rc); err != nil {
				return nil, nil, nil, fmt.Errorf("decode replicationcontroller %s: %w", v.Metadata.Name, err)
			}
			cells = printers.ReplicationController(&rc, now)
		}
		var row []string
		if withNS {
			row = append(row, v.Metadata.Namespace)
		}
		for _, c := range cells[:5] {
			row = append(row, fmt.Sprint(c))
		}
		rows = append(rows, row)
	}
	return items, header, rows, nil
}

// applyReplicated creates the RC or ReplicaSet, or replaces its spec.
func applyReplicated(ctx context.Context, c *client, obj api.Replicated, ns string) (string, error) {
	k := &rcKind
	if api.TypeMetaOf(obj).Kind == api.KindReplicaSet {
		k = &rsKind
	}
	name := api.MetaOf(obj).Name
	err := c.sendJSON(ctx, "POST", k.collection(ns), obj, nil)
	if err == nil {
		return "created", nil
	}
	if !isReason(err, "AlreadyExists") {
		return "", fmt.Errorf("create %s %s: %w", k.short, name, err)
	}
	var current replicatedView
	if err := c.getJSON(ctx, k.path(ns, name), &current); err != nil {
		return "", err
	}
	api.MetaOf(obj).ResourceVersion = current.Metadata.ResourceVersion
	var out replicatedView
	if err := c.sendJSON(ctx, "PUT", k.path(ns, name), obj, &out); err != nil {
		return "", fmt.Errorf("update %s %s: %w", k.short, name, err)
	}
	if out.Metadata.ResourceVersion == current.Metadata.ResourceVersion {
		return "unchanged", nil
	}
	return "configured", nil
}

// deleteReplicatedCmd is `shoal delete rc|rs NAME... [--cascade=orphan]`.
func deleteReplicatedCmd(cmd *cobra.Command, g *globalFlags, k *replicatedKind, names []string, cascade string) error {
	policy := ""
	switch cascade {
	case "", "true", "background":
		policy = "Background"
	case "foreground":
		policy = "Foreground"
	case "orphan", "false":
		policy = "Orphan"
	default:
		return fmt.Errorf("--cascade %q: must be background, foreground or orphan", cascade)
	}
	ns := g.namespace
	if ns == "" {
		ns = api.DefaultNamespace
	}
	for _, name := range names {
		p := k.path(ns, name) + "?propagationPolicy=" + policy
		if err := g.client().do(cmd.Context(), "DELETE", p, nil, "", nil); err != nil {
			return fmt.Errorf("delete %s %s: %w", k.short, name, err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s %q deleted\n", k.short, name)
	}
	return nil
}

// deleteReplicatedObject deletes an RC or ReplicaSet read from a manifest.
func deleteReplicatedObject(cmd *cobra.Command, g *globalFlags, obj api.Replicated, cascade string) error {
	k := &rcKind
	if api.TypeMetaOf(obj).Kind == api.KindReplicaSet {
		k = &rsKind
	}
	ns, err := objectNamespace(obj, g.namespace)
	if err != nil {
		return err
	}
	scoped := *g
	scoped.namespace = ns
	return deleteReplicatedCmd(cmd, &scoped, k, []string{api.MetaOf(obj).Name}, cascade)
}
