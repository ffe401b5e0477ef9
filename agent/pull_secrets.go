package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/podruntime"
)

// pullSecrets is the node's podruntime.CredentialSource: it reads a pod's
// imagePullSecrets through the API (a client node holds no state) when a
// pull starts. A Secret that is missing or of another type is skipped, as
// the kubelet does: the pull goes on with what is left, and the registry's
// refusal says the rest.
type pullSecrets struct{ a *Agent }

func (p pullSecrets) PullCredentials(ctx context.Context, pod *api.Pod) ([]podruntime.RegistryCredential, error) {
	var out []podruntime.RegistryCredential
	for _, ref := range pod.Spec.ImagePullSecrets {
		s, err := p.fetch(ctx, pod.ObjectMeta.Namespace, ref.Name)
		if err != nil {
			return nil, err
		}
		if s == nil {
			p.a.log.Warn("image pull secret not found", "pod", api.KeyOf(pod), "secret", ref.Name)
			continue
		}
		if s.Type != api.SecretTypeDockerConfigJSON {
			p.a.log.Warn("image pull secret is not of type "+string(api.SecretTypeDockerConfigJSON), "pod", api.KeyOf(pod), "secret", ref.Name, "type", s.Type)
			continue
		}
		logins, err := api.ParseDockerConfigJSON(s.Data[api.DockerConfigJSONKey])
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", ref.Name, err)
		}
		for _, l := range logins {
			out = append(out, podruntime.RegistryCredential{Registry: l.Registry, Username: l.Username, Password: l.Password})
		}
	}
	return out, nil
}

func (p pullSecrets) fetch(ctx context.Context, ns, name string) (*api.Secret, error) {
	u := "http://" + p.a.self.API + "/api/v1/namespaces/" + url.PathEscape(ns) + "/secrets/" + url.PathEscape(name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.a.internalClient(30 * time.Second).Do(req)
	if err != nil {
		return nil, fmt.Errorf("read secret %s: %w", name, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, nil
	default:
		return nil, fmt.Errorf("read secret %s: HTTP %d", name, resp.StatusCode)
	}
	var s api.Secret
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return nil, fmt.Errorf("decode secret %s: %w", name, err)
	}
	return &s, nil
}
