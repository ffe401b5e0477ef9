package apiserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// propagationPolicy is a DELETE's propagationPolicy, from the query
// (?propagationPolicy=) or the DeleteOptions body, which wins, as
// kubectl delete --cascade=orphan|background|foreground sends it; the old
// orphanDependents=true means Orphan. Empty means the kind's default
// (Background).
func propagationPolicy(r *http.Request) (string, error) {
	policy := r.URL.Query().Get("propagationPolicy")
	if r.URL.Query().Get("orphanDependents") == "true" {
		policy = consensus.PropagateOrphan
	}
	if body, _ := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes)); len(strings.TrimSpace(string(body))) > 0 {
		var opts struct {
			PropagationPolicy string `json:"propagationPolicy"`
			OrphanDependents  *bool  `json:"orphanDependents"`
		}
		if err := json.Unmarshal(body, &opts); err != nil {
			return "", invalid(fmt.Errorf("decode DeleteOptions: %w", err))
		}
		if opts.PropagationPolicy != "" {
			policy = opts.PropagationPolicy
		}
		if opts.OrphanDependents != nil && *opts.OrphanDependents {
			policy = consensus.PropagateOrphan
		}
	}
	switch policy {
	case "", consensus.PropagateBackground, consensus.PropagateForeground, consensus.PropagateOrphan:
		return policy, nil
	}
	return "", invalid(&api.FieldError{Path: "propagationPolicy", Value: policy, Detail: "must be Orphan, Background or Foreground"})
}

// removeObject is the delete of every kind consensus.DeleteObject serves:
// Background and Foreground take the object's dependents in the same
// entry, Orphan leaves them without the owner reference.
func removeObject(r *http.Request, kind string, cur api.Object) (consensus.Command, error) {
	policy, err := propagationPolicy(r)
	if err != nil {
		return nil, err
	}
	m := api.MetaOf(cur)
	return consensus.DeleteObject{Kind: kind, Namespace: m.Namespace, Name: m.Name, UID: m.UID, Propagation: policy}, nil
}
