package apiserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/shoal-dev/shoal/api"
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
		m.HandleFunc("PATCH "+path, m.srv.viaLeader(m.srv.patchThrough(p.get, p.put)))
	}
}

// patchThrough runs on the leader, so the GET reads the newest state.
func (srv *Server) patchThrough(get, put func(http.ResponseWriter, *http.Request)) http.HandlerFunc {
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
			if cur.code != http.StatusOK {
				cur.copyTo(w)
				return
			}
			out, err := patchJSON(r.Header.Get("Content-Type"), api.NewOfDocument(cur.body.Bytes()), cur.body.Bytes(), patch)
			if err != nil {
				writeError(w, srv.log, err)
				return
			}
			explicitRV := resourceVersionOf(out) != resourceVersionOf(cur.body.Bytes())
			putReq := r.Clone(r.Context())
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
