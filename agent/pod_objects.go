package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// podObjects is the node's podruntime.ObjectSource: the ConfigMaps and
// Secrets its pods consume (env, envFrom, volumes), read through this
// agent's own API as the pull secrets are (a client node holds no state).
// The reads ask for resourceVersion=0, "any version", as the kubelet reads
// from its cache: a server answers from its own state without a round trip
// to the leader, so the volumes of every pod, refreshed at every sync, cost
// the leader nothing, and a node cut off from the leader still starts its
// containers with what its server last knew.
type podObjects struct{ a *Agent }

func (p podObjects) ConfigMap(ctx context.Context, ns, name string) (*api.ConfigMap, error) {
	var cm api.ConfigMap
	found, err := p.get(ctx, "configmaps", ns, name, &cm)
	if !found || err != nil {
		return nil, err
	}
	return &cm, nil
}

func (p podObjects) Secret(ctx context.Context, ns, name string) (*api.Secret, error) {
	var s api.Secret
	found, err := p.get(ctx, "secrets", ns, name, &s)
	if !found || err != nil {
		return nil, err
	}
	return &s, nil
}

// get reads one object; found is false on 404.
func (p podObjects) get(ctx context.Context, plural, ns, name string, into any) (found bool, err error) {
	u := "http://" + p.a.self.API + "/api/v1/namespaces/" + url.PathEscape(ns) + "/" + plural + "/" + url.PathEscape(name) + "?resourceVersion=0"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, err
	}
	resp, err := p.a.internalClient(30 * time.Second).Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return false, nil
	default:
		return false, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		return false, fmt.Errorf("decode: %w", err)
	}
	return true, nil
}
