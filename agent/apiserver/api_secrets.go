package apiserver

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// secretStore is the part of the state that holds Secrets.
type secretStore interface {
	Secret(namespace, name string) (*api.Secret, error)
	Secrets(filter func(*api.Secret) bool) ([]*api.Secret, uint64)
}

// secretState returns the local state's Secrets, nil on a client.
func (a *Server) secretState() secretStore {
	ss, _ := a.fsm().(secretStore)
	return ss
}

// secretRoutes registers /api/v1/[namespaces/{ns}/]secrets in the
// Kubernetes REST shape. Values are never logged: errors name keys and
// fields, never data.
func (a *Server) secretRoutes(mux handleFuncer) {
	coll := "/api/v1/namespaces/{ns}/secrets"
	one := coll + "/{name}"
	mux.HandleFunc("GET /api/v1/secrets", a.viaServer(a.listSecrets))
	mux.HandleFunc("GET "+coll, a.viaServer(a.listSecrets))
	mux.HandleFunc("GET "+one, a.viaServer(a.getSecret))
	mux.HandleFunc("POST "+coll, a.viaLeader(a.writeSecret(true)))
	mux.HandleFunc("PUT "+one, a.viaLeader(a.writeSecret(false)))
	mux.HandleFunc("DELETE "+one, a.viaLeader(a.deleteSecret))
}

func (a *Server) listSecrets(w http.ResponseWriter, r *http.Request) {
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

func (a *Server) getSecret(w http.ResponseWriter, r *http.Request) {
	s, err := a.secretState().Secret(r.PathValue("ns"), r.PathValue("name"))
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// writeSecret is POST (create only) and PUT (create or replace).
func (a *Server) writeSecret(create bool) http.HandlerFunc {
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
func (a *Server) applyAndAnswer(w http.ResponseWriter, r *http.Request, cmd consensus.Command, pick func(*consensus.Result) any) {
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

func (a *Server) deleteSecret(w http.ResponseWriter, r *http.Request) {
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
