package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/shoal-dev/shoal/api"
)

// applyBatch creates a Job or a CronJob, or replaces it when it exists
// (the state machine keeps a Job's generated selector; its template and
// completions cannot change, and saying so is the server's 422).
func applyBatch(ctx context.Context, c *client, obj api.Object, ns string) (string, error) {
	kind := api.TypeMetaOf(obj).Kind
	coll := "/apis/batch/v1/namespaces/" + url.PathEscape(ns) + "/" + strings.ToLower(kind) + "s"
	name := api.MetaOf(obj).Name
	err := c.sendJSON(ctx, "POST", coll, obj, nil)
	if err == nil {
		return "created", nil
	}
	if !isReason(err, "AlreadyExists") {
		return "", fmt.Errorf("create %s %s: %w", strings.ToLower(kind), name, err)
	}
	if err := c.sendJSON(ctx, "PUT", coll+"/"+url.PathEscape(name), obj, nil); err != nil {
		return "", fmt.Errorf("update %s %s: %w", strings.ToLower(kind), name, err)
	}
	return "configured", nil
}
