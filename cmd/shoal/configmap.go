package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/shoal-dev/shoal/api"
)

func configMapsPath(ns string) string {
	return "/api/v1/namespaces/" + url.PathEscape(ns) + "/configmaps"
}

// applyConfigMap creates the ConfigMap, or replaces it when it exists.
func applyConfigMap(ctx context.Context, c *client, cm *api.ConfigMap, ns string) (string, error) {
	err := c.sendJSON(ctx, "POST", configMapsPath(ns), cm, nil)
	if err == nil {
		return "created", nil
	}
	if !isReason(err, "AlreadyExists") {
		return "", fmt.Errorf("create configmap %s: %w", cm.ObjectMeta.Name, err)
	}
	if err := c.sendJSON(ctx, "PUT", configMapsPath(ns)+"/"+url.PathEscape(cm.ObjectMeta.Name), cm, nil); err != nil {
		return "", fmt.Errorf("update configmap %s: %w", cm.ObjectMeta.Name, err)
	}
	return "configured", nil
}
