package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// patchAttempts bounds how often a patch that did not name a
// resourceVersion is re-applied when the pod changed under it, as the
// Kubernetes API server retries such patches itself.
const patchAttempts = 5

// patchPod serves PATCH on a pod (kubectl apply, label, annotate): the
// patch is applied to the stored pod and the result replaces it through
// ApplyPod, with the stored resourceVersion as precondition, so a patch
// never overwrites a change it did not see.
func (srv *Server) patchPod(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	if err := checkPatchType(r.Header.Get("Content-Type")); err != nil {
		writeError(w, srv.log, err)
		return
	}
	if patchMediaType(r.Header.Get("Content-Type")) == applyPatchType {
		// Server-side apply reads and writes through the pod's GET and PUT,
		// which also create a pod that does not exist yet.
		srv.patchThrough(srv.getResource(podKind{}), srv.writeResource(podKind{}, false),
			schema.GroupVersionKind{Version: "v1", Kind: "Pod"})(w, r)
		return
	}
	patch, err := readBody(r) // api_rc.go
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	for attempt := 1; ; attempt++ {
		p, explicitRV, err := srv.patchedPod(r, ns, name, patch)
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		res, err := srv.raft().Apply(r.Context(), consensus.ApplyPod{Pod: *p, Time: time.Now().UTC()})
		var conflict *consensus.ConflictError
		if errors.As(err, &conflict) && !explicitRV && attempt < patchAttempts {
			continue
		}
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		w.Header().Set(indexHeader, strconv.FormatUint(res.Index, 10))
		writeJSON(w, http.StatusOK, res.Pod)
		return
	}
}

// patchedPod reads the stored pod, applies the patch and decodes the
// result strictly. explicitRV tells whether the patch itself set srv
// resourceVersion (then a conflict is the caller's to see).
func (srv *Server) patchedPod(r *http.Request, ns, name string, patch []byte) (*api.Pod, bool, error) {
	contentType := r.Header.Get("Content-Type")
	cur, err := srv.fsm().Pod(ns, name)
	if err != nil {
		return nil, false, err
	}
	cur.APIVersion, cur.Kind = "v1", "Pod"
	curJSON, err := json.Marshal(cur)
	if err != nil {
		return nil, false, fmt.Errorf("encode pod %s/%s: %w", ns, name, err)
	}
	out, err := patchJSON(contentType, &api.Pod{}, curJSON, patch)
	if err != nil {
		return nil, false, err
	}
	p := &api.Pod{}
	if err := api.DecodeObject(out, p); err != nil {
		return nil, false, &consensus.InvalidError{Kind: "Pod", Namespace: ns, Name: name, Fields: fieldErrorsOf(err)}
	}
	if p.ObjectMeta.Name != name || p.ObjectMeta.Namespace != ns {
		return nil, false, invalid(&api.FieldError{Path: "metadata.name", Value: p.ObjectMeta.Namespace + "/" + p.ObjectMeta.Name,
			Detail: "a patch cannot rename a pod or move it to another namespace"})
	}
	if tracked, ok := srv.applier.track(r, cur, p).(*api.Pod); ok {
		p = tracked
	}
	return p, p.ObjectMeta.ResourceVersion != cur.ObjectMeta.ResourceVersion, nil
}

// fieldErrorsOf keeps the field errors of a decoding error, or names the
// whole object when it has none.
func fieldErrorsOf(err error) api.FieldErrors {
	if fes := api.AsFieldErrors(err); fes != nil {
		return fes
	}
	return api.FieldErrors{{Path: "", Detail: err.Error()}}
}
