package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/podruntime"
)

// secretStore is the part of the state that holds Secrets.
type secretStore interface {
	Secret(namespace, name string) (*api.Secret, error)
	Secrets(filter func(*api.Secret) bool) ([]*api.Secret, uint64)
}

// secretState returns the local state's Secrets, nil on a client.
func (a *Agent) secretState() secretStore {
	ss, _ := a.fsm().(secretStore)
	return ss
}

// secretRoutes registers /api/v1/[namespaces/{ns}/]secrets in the
// Kubernetes REST shape. Values are never logged: errors name keys and
// fields, never data.
func (a *Agent) secretRoutes(mux handleFuncer) {
	coll := "/api/v1/namespaces/{ns}/secrets"
	one := coll + "/{name}"
	mux.HandleFunc("GET /api/v1/secrets", a.viaServer(a.listSecrets))
	mux.HandleFunc("GET "+coll, a.viaServer(a.listSecrets))
	mux.HandleFunc("GET "+one, a.viaServer(a.getSecret))
	mux.HandleFunc("POST "+coll, a.viaLeader(a.writeSecret(true)))
	mux.HandleFunc("PUT "+one, a.viaLeader(a.writeSecret(false)))
	mux.HandleFunc("DELETE "+one, a.viaLeader(a.deleteSecret))
}

func (a *Agent) listSecrets(w http.ResponseWriter, r *http.Request) {
	sel, err := selector(r)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	ns := r.PathValue("ns")
	items, idx := a.secretState().Secrets(func(s *api.Secret) bool {
		return (ns == "" || s.ObjectMeta.Namespace == ns) && sel.Matches(labels.Set(s.ObjectMeta.Labels))
	})
	if items == nil {
		items = []*api.Secret{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"apiVersion": "v1", "kind": "SecretList",
		"metadata": api.ListMeta{ResourceVersion: strconv.FormatUint(idx, 10)}, "items": items})
}

func (a *Agent) getSecret(w http.ResponseWriter, r *http.Request) {
	s, err := a.secretState().Secret(r.PathValue("ns"), r.PathValue("name"))
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// writeSecret is POST (create only) and PUT (create or replace).
func (a *Agent) writeSecret(create bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := readSecret(r)
		if err != nil {
			writeError(w, a.log, err)
			return
		}
		if !create && s.ObjectMeta.Name != r.PathValue("name") {
			writeError(w, a.log, invalid(&api.FieldError{Path: "metadata.name", Value: s.ObjectMeta.Name,
				Detail: "does not match the name in the URL " + r.PathValue("name")}))
			return
		}
		a.applyAndAnswer(w, r, consensus.ApplySecret{Secret: *s, Create: create, UID: api.UID(newUID()), Time: time.Now().UTC()},
			func(out *consensus.Result) any { return out.Secret })
	}
}

// applyAndAnswer writes cmd through Raft and answers with what pick takes
// from the result: 201 when the command created the object, else 200, with
// the index it applied at.
func (a *Agent) applyAndAnswer(w http.ResponseWriter, r *http.Request, cmd consensus.Command, pick func(*consensus.Result) any) {
	out, err := a.raft().Apply(r.Context(), cmd)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	w.Header().Set(indexHeader, strconv.FormatUint(out.Index, 10))
	code := http.StatusOK
	if out.Created {
		code = http.StatusCreated
	}
	writeJSON(w, code, pick(out))
}

func (a *Agent) deleteSecret(w http.ResponseWriter, r *http.Request) {
	a.applyAndAnswer(w, r, consensus.DeleteSecret{Namespace: r.PathValue("ns"), Name: r.PathValue("name")},
		func(out *consensus.Result) any { return out.Secret })
}

// readSecret decodes a body strictly into a defaulted, valid Secret whose
// namespace is the URL's.
func readSecret(r *http.Request) (*api.Secret, error) {
	s := &api.Secret{}
	if err := readNamespaced(r, "Secret", "v1", s); err != nil {
		return nil, err
	}
	return s, nil
}

// readNamespaced decodes a body strictly into obj (defaulted and valid),
// refusing a kind, apiVersion or namespace other than the endpoint's.
func readNamespaced(r *http.Request, kind, apiVersion string, obj api.Object) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	ns := r.PathValue("ns")
	if _, err := checkHead(body, ns, kind, apiVersion); err != nil {
		return err
	}
	api.MetaOf(obj).Namespace = ns
	if err := api.DecodeObject(body, obj); err != nil {
		return invalid(err)
	}
	api.MetaOf(obj).Namespace = ns
	return nil
}

// checkHead refuses a body whose kind, apiVersion or namespace is not the
// endpoint's before it is decoded (defaulting would overwrite a wrong
// apiVersion), and returns the name it gives, for error messages.
func checkHead(body []byte, ns, kind, apiVersion string) (string, error) {
	var head struct {
		api.TypeMeta `json:",inline"`
		Metadata     struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if js, err := yaml.YAMLToJSON(body); err == nil {
		_ = json.Unmarshal(js, &head)
	}
	if head.Kind != "" && head.Kind != kind {
		return "", invalid(&api.FieldError{Path: "kind", Value: head.Kind, Detail: "this endpoint takes a " + kind})
	}
	if head.APIVersion != "" && head.APIVersion != apiVersion {
		return "", invalid(&api.FieldError{Path: "apiVersion", Value: head.APIVersion, Detail: "this endpoint takes " + apiVersion})
	}
	if head.Metadata.Namespace != "" && head.Metadata.Namespace != ns {
		return "", invalid(&api.FieldError{Path: "metadata.namespace", Value: head.Metadata.Namespace, Detail: "does not match the namespace in the URL " + ns})
	}
	return head.Metadata.Name, nil
}

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

// secretTable is kubectl's NAME TYPE DATA AGE: the number of keys, never
// their values.
func secretTable() tableKind {
	return tableKind{
		columns: []tableColumn{
			col("Name", "string", nameDesc, 0),
			col("Type", "string", "The type of the secret", 0),
			col("Data", "string", "The number of keys in the secret", 0),
			col("Age", "string", ageDesc, 0),
		},
		row: func(o jsonObj, now time.Time) []any {
			data, _ := o.get("data").(map[string]any)
			return []any{o.str("metadata", "name"), o.str("type"), int64(len(data)), age(o.time("metadata", "creationTimestamp"), now)}
		},
	}
}
