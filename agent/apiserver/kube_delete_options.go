package apiserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// deleteOptions is what a DELETE asks beyond the object: from the query
// (?propagationPolicy=, ?gracePeriodSeconds=) or the DeleteOptions body,
// which wins, as kubectl delete --cascade=orphan|background|foreground and
// --grace-period send them; the old orphanDependents=true means Orphan.
// An empty policy means the kind's default (Background); a nil grace the
// pod's own; a precondition UID must be the stored object's.
type deleteOptions struct {
	policy string
	grace  *int64
	uid    api.UID
}

func readDeleteOptions(r *http.Request) (deleteOptions, error) {
	var o deleteOptions
	q := r.URL.Query()
	o.policy = q.Get("propagationPolicy")
	if q.Get("orphanDependents") == "true" {
		o.policy = consensus.PropagateOrphan
	}
	if v := q.Get("gracePeriodSeconds"); v != "" {
		g, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return o, invalid(&api.FieldError{Path: "gracePeriodSeconds", Value: v, Detail: "must be an integer"})
		}
		o.grace = &g
	}
	if body, _ := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes)); len(strings.TrimSpace(string(body))) > 0 {
		var opts struct {
			PropagationPolicy  string `json:"propagationPolicy"`
			OrphanDependents   *bool  `json:"orphanDependents"`
			GracePeriodSeconds *int64 `json:"gracePeriodSeconds"`
			Preconditions      *struct {
				UID *string `json:"uid"`
			} `json:"preconditions"`
		}
		if err := json.Unmarshal(body, &opts); err != nil {
			return o, invalid(fmt.Errorf("decode DeleteOptions: %w", err))
		}
		if opts.PropagationPolicy != "" {
			o.policy = opts.PropagationPolicy
		}
		if opts.OrphanDependents != nil && *opts.OrphanDependents {
			o.policy = consensus.PropagateOrphan
		}
		if opts.GracePeriodSeconds != nil {
			o.grace = opts.GracePeriodSeconds
		}
		if p := opts.Preconditions; p != nil && p.UID != nil {
			o.uid = api.UID(*p.UID)
		}
	}
	if o.grace != nil && *o.grace < 0 {
		return o, invalid(&api.FieldError{Path: "gracePeriodSeconds", Value: strconv.FormatInt(*o.grace, 10), Detail: "must be greater than or equal to 0"})
	}
	switch o.policy {
	case "", consensus.PropagateBackground, consensus.PropagateForeground, consensus.PropagateOrphan:
		return o, nil
	}
	return o, invalid(&api.FieldError{Path: "propagationPolicy", Value: o.policy, Detail: "must be Orphan, Background or Foreground"})
}

// propagationPolicy is a DELETE's propagationPolicy (readDeleteOptions).
func propagationPolicy(r *http.Request) (string, error) {
	o, err := readDeleteOptions(r)
	return o.policy, err
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

// removePod is a pod's API DELETE: graceful, as in Kubernetes
// (consensus/pod_terminate.go), with the request's grace period or the
// pod's own.
func removePod(r *http.Request, cur api.Object, now time.Time) (consensus.Command, error) {
	o, err := readDeleteOptions(r)
	if err != nil {
		return nil, err
	}
	m := api.MetaOf(cur)
	uid := m.UID
	if o.uid != "" {
		uid = o.uid
	}
	return consensus.DeleteObject{Kind: consensus.KindPod, Namespace: m.Namespace, Name: m.Name, UID: uid, Propagation: o.policy,
		Graceful: true, GracePeriodSeconds: o.grace, Time: now}, nil
}
