package apiserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"sigs.k8s.io/yaml"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// evictPod is POST /api/v1/namespaces/{ns}/pods/{name}/eviction, what
// kubectl drain sends for every pod it moves (discovery lists
// pods/eviction as policy/v1 Eviction, which is how drain knows to use
// it). shoal serves no PodDisruptionBudgets, so no budget can refuse an
// eviction with 429: it deletes the pod at once, with the caller's
// preconditions (deleteOptions.preconditions.uid), and the pod's
// controller re-creates it where placement allows (off a cordoned node).
func (srv *Server) evictPod(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	body, err := readBody(r)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	ev, err := decodeEviction(body)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	if ev.Name != "" && ev.Name != name {
		writeError(w, srv.log, invalid(&api.FieldError{Path: "metadata.name", Value: ev.Name, Detail: "must be the pod's name in the URL, " + name}))
		return
	}
	if ev.Namespace != "" && ev.Namespace != ns {
		writeError(w, srv.log, invalid(&api.FieldError{Path: "metadata.namespace", Value: ev.Namespace, Detail: "must be the namespace in the URL, " + ns}))
		return
	}
	cur, err := srv.fsm().Pod(ns, name)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	uid := cur.ObjectMeta.UID
	if o := ev.DeleteOptions; o != nil && o.Preconditions != nil {
		if o.Preconditions.UID != nil {
			uid = *o.Preconditions.UID
		}
		if v := o.Preconditions.ResourceVersion; v != nil && *v != cur.ObjectMeta.ResourceVersion {
			writeError(w, srv.log, &consensus.ConflictError{Kind: api.KindPod, Namespace: ns, Name: name,
				Reason: "precondition failed: resourceVersion " + *v + ", stored object has " + cur.ObjectMeta.ResourceVersion})
			return
		}
	}
	res, err := srv.raft().Apply(r.Context(), consensus.DeletePod{Namespace: ns, Name: name, UID: uid})
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	w.Header().Set(indexHeader, strconv.FormatUint(res.Index, 10))
	writeJSON(w, http.StatusCreated, api.Status{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"},
		Status: "Success", Code: http.StatusCreated})
}

// decodeEviction reads an Eviction strictly: an unknown field is an
// error naming it, as for every other body.
func decodeEviction(body []byte) (*api.Eviction, error) {
	js, err := yaml.YAMLToJSON(body)
	if err != nil {
		return nil, invalid(fmt.Errorf("decode Eviction: %w", err))
	}
	ev := &api.Eviction{}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(ev); err != nil {
		return nil, invalid(fmt.Errorf("decode Eviction: %w", err))
	}
	if ev.Kind != api.KindEviction {
		return nil, invalid(&api.FieldError{Path: "kind", Value: ev.Kind, Detail: "must be Eviction"})
	}
	switch ev.APIVersion {
	case "policy/v1", "policy/v1beta1":
	default:
		return nil, invalid(&api.FieldError{Path: "apiVersion", Value: ev.APIVersion, Detail: "must be policy/v1 (or policy/v1beta1)"})
	}
	return ev, nil
}
