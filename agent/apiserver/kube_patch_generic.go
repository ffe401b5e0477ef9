package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/shoal-dev/shoal/api"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// addPatchRoutes gives every resource route that has a GET and a PUT but
// no PATCH of its own (ReplicationControllers, ReplicaSets, their scale
// and status) a PATCH that reads the object through the GET, patches it
// and writes it back through the PUT, with the read resourceVersion as
// precondition: kubectl apply, scale and label then work on them too.
// Call it after every route is registered.
func (m *kubeMux) addPatchRoutes() {
	type pair struct {
		get, put func(http.ResponseWriter, *http.Request)
	}
	paths := map[string]*pair{}
	kinds := map[string]schema.GroupVersionKind{}
	var order []string
	hasPatch := map[string]bool{}
	for i, rt := range m.routes {
		path := m.paths[i]
		switch rt.method {
		case http.MethodGet, http.MethodPut:
			if !rt.named {
				continue
			}
			p, ok := paths[path]
			if !ok {
				p = &pair{}
				paths[path] = p
				order = append(order, path)
			}
			if rt.sub == "" {
				kinds[path] = schema.GroupVersionKind{Group: rt.group, Version: rt.version, Kind: resourceInfoFor(rt.resource).kind}
			}
			if rt.method == http.MethodGet {
				p.get = m.handlers[i]
			} else {
				p.put = m.handlers[i]
			}
		case http.MethodPatch:
			hasPatch[path] = true
		}
	}
	for _, path := range order {
		p := paths[path]
		if p.get == nil || p.put == nil || hasPatch[path] {
			continue
		}
		m.HandleFunc("PATCH "+path, m.srv.viaLeader(m.srv.patchThrough(p.get, p.put, kinds[path])))
	}
}

// patchThrough runs on the leader, so the GET reads the newest state. A
// server-side apply (kube_apply.go) of an object that does not exist yet
// creates it through the PUT; kind is the route's (empty for a
// subresource, which is not applied).
func (srv *Server) patchThrough(get, put func(http.ResponseWriter, *http.Request), kind schema.GroupVersionKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := checkPatchType(r.Header.Get("Content-Type")); err != nil {
			writeError(w, srv.log, err)
			return
		}
		patch, err := readBody(r) // api_rc.go: 413 over the cap, like every other write
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		for attempt := 1; ; attempt++ {
			getReq := r.Clone(r.Context())
			getReq.Method, getReq.Body, getReq.ContentLength = http.MethodGet, http.NoBody, 0
			getReq.Header.Set("Accept", "application/json")
			cur := newRecorder()
			get(cur, getReq)
			if cur.code == http.StatusNotFound {
				// Only a state confirmed current may say so (leader_current.go).
				if err := srv.readBarrier(r.Context()); err != nil {
					writeNotWritten(w, "cannot confirm the object is gone: "+err.Error())
					return
				}
				cur = newRecorder()
				get(cur, getReq)
			}
			apply := patchMediaType(r.Header.Get("Content-Type")) == applyPatchType && kind.Kind != ""
			if cur.code != http.StatusOK && !(apply && cur.code == http.StatusNotFound) {
				cur.copyTo(w)
				return
			}
			var out []byte
			if apply {
				var live []byte
				if cur.code == http.StatusOK {
					live = cur.body.Bytes()
				}
				out, err = srv.applier.apply(r, kind, r.PathValue("ns"), r.PathValue("name"), live, patch)
			} else {
				out, err = patchJSON(r.Header.Get("Content-Type"), api.NewOfDocument(cur.body.Bytes()), cur.body.Bytes(), patch)
			}
			if err != nil {
				writeError(w, srv.log, err)
				return
			}
			explicitRV := resourceVersionOf(out) != resourceVersionOf(cur.body.Bytes())
			ctx := r.Context()
			if apply {
				ctx = context.WithValue(ctx, appliedKey{}, true)
			}
			putReq := r.Clone(ctx)
			putReq.Method, putReq.Body, putReq.ContentLength = http.MethodPut, io.NopCloser(bytes.NewReader(out)), int64(len(out))
			putReq.Header.Set("Content-Type", "application/json")
			res := newRecorder()
			put(res, putReq)
			if res.code == http.StatusConflict && !explicitRV && attempt < patchAttempts {
				continue
			}
			res.copyTo(w)
			return
		}
	}
}

func resourceVersionOf(doc []byte) string {
	var o jsonObj
	if json.Unmarshal(doc, &o) != nil {
		return ""
	}
	return o.str("metadata", "resourceVersion")
}
