package main

import (
	"context"
	"fmt"

	"github.com/shoal-dev/shoal/api"
)

// applyNamespace creates a Namespace, or replaces its labels and
// annotations when it exists. A Namespace has no namespace of its own:
// --namespace does not apply to it.
func applyNamespace(ctx context.Context, c *client, n *api.Namespace) (string, error) {
	err := c.sendJSON(ctx, "POST", "/api/v1/namespaces", n, nil)
	if err == nil {
		return "created", nil
	}
	if !isReason(err, "AlreadyExists") {
		return "", fmt.Errorf("create namespace %s: %w", n.ObjectMeta.Name, err)
	}
	if err := c.sendJSON(ctx, "PUT", "/api/v1/namespaces/"+n.ObjectMeta.Name, n, nil); err != nil {
		return "", fmt.Errorf("update namespace %s: %w", n.ObjectMeta.Name, err)
	}
	return "configured", nil
}
