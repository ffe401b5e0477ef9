package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/shoal-dev/shoal/api"
)

// FinishDeletion is DELETE /api/v1/namespaces/{ns}/pods/{name} with grace
// 0 and the pod's UID as precondition: the node has stopped a pod deleted
// gracefully, and this removes it for good (its IP and resources are
// free from then on). A pod already gone, or replaced by another of the
// same name, is done with.
func (c nodeAPIClient) FinishDeletion(ctx context.Context, p *api.Pod) error {
	opts := map[string]any{"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
		"preconditions": map[string]string{"uid": string(p.ObjectMeta.UID)}}
	code, err := c.sendJSON(ctx, http.MethodDelete, "/api/v1/namespaces/"+url.PathEscape(p.ObjectMeta.Namespace)+"/pods/"+url.PathEscape(p.ObjectMeta.Name), opts)
	if err != nil {
		return err
	}
	switch code {
	case http.StatusOK, http.StatusNotFound, http.StatusConflict:
		return nil
	}
	return fmt.Errorf("HTTP %d", code)
}
