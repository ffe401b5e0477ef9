package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	authnv1 "k8s.io/api/authentication/v1"

	"github.com/shoal-dev/shoal/agent/controllers"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/podruntime"
)

// podTokens is the node's podruntime.TokenSource: ServiceAccounts read and
// tokens requested through this agent's own API, with the fleet's token,
// as podObjects reads ConfigMaps.
type podTokens struct{ a *Agent }

func (p podTokens) ServiceAccount(ctx context.Context, ns, name string) (*api.ServiceAccount, error) {
	var sa api.ServiceAccount
	found, err := podObjects(p).get(ctx, "serviceaccounts", ns, name, &sa)
	if !found || err != nil {
		return nil, err
	}
	return &sa, nil
}

func (p podTokens) ServiceAccountToken(ctx context.Context, ns, name, pod string, podUID api.UID, seconds int64) (string, time.Time, error) {
	tr := authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: &seconds,
		BoundObjectRef: &authnv1.BoundObjectReference{Kind: api.KindPod, APIVersion: api.V1, Name: pod, UID: podUID}}}
	tr.APIVersion, tr.Kind = "authentication.k8s.io/v1", "TokenRequest"
	body, err := json.Marshal(tr)
	if err != nil {
		return "", time.Time{}, err
	}
	u := "http://" + p.a.self.API + "/api/v1/namespaces/" + url.PathEscape(ns) + "/serviceaccounts/" + url.PathEscape(name) + "/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return "", time.Time{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.a.internalClient(30 * time.Second).Do(req)
	if err != nil {
		return "", time.Time{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return "", time.Time{}, fmt.Errorf("token request: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	var out authnv1.TokenRequest
	if err := json.Unmarshal(b, &out); err != nil {
		return "", time.Time{}, fmt.Errorf("token request: decode: %w", err)
	}
	return out.Status.Token, out.Status.ExpirationTimestamp.Time, nil
}

// apiAccess is what the node tells its pods about the API: the
// `kubernetes` Service's address and the fleet's CA (none when the API
// speaks plain HTTP).
func (a *Agent) apiAccess() (*podruntime.APIAccess, error) {
	ip, err := controllers.APIServiceIP(a.cfg.ServiceCIDR)
	if err != nil {
		return nil, err
	}
	acc := &podruntime.APIAccess{Tokens: podTokens{a}, ServiceHost: ip.String(), ServicePort: 443}
	if a.cfg.TLSCAFile != "" && a.sec.serverTLS != nil {
		ca, err := os.ReadFile(a.cfg.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("read the fleet's CA: %w", err)
		}
		acc.RootCA = ca
	}
	return acc, nil
}
