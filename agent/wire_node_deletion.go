package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

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
	b, err := json.Marshal(opts)
	if err != nil {
		return err
	}
	u := "http://" + c.addr + "/api/v1/namespaces/" + url.PathEscape(p.ObjectMeta.Namespace) + "/pods/" + url.PathEscape(p.ObjectMeta.Name)
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u, strings.NewReader(string(b)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNotFound, http.StatusConflict:
		return nil
	}
	return fmt.Errorf("HTTP %d", resp.StatusCode)
}
