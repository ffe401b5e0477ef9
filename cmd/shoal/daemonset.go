package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/shoal-dev/shoal/api"
)

func daemonSetsPath(ns string) string {
	return "/apis/apps/v1/namespaces/" + url.PathEscape(ns) + "/daemonsets"
}

// applyDaemonSet creates the DaemonSet, or replaces its spec and labels
// when it exists (the leader's daemon set controller rolls its pods).
func applyDaemonSet(ctx context.Context, c *client, ds *api.DaemonSet, ns string) (string, error) {
	err := c.sendJSON(ctx, "POST", daemonSetsPath(ns), ds, nil)
	if err == nil {
		return "created", nil
	}
	if !isReason(err, "AlreadyExists") {
		return "", fmt.Errorf("create daemon set %s: %w", ds.Name, err)
	}
	if err := c.sendJSON(ctx, "PUT", daemonSetsPath(ns)+"/"+url.PathEscape(ds.Name), ds, nil); err != nil {
		return "", fmt.Errorf("update daemon set %s: %w", ds.Name, err)
	}
	return "configured", nil
}
