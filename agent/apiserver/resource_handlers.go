package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"k8s.io/apimachinery/pkg/util/uuid"
)

// resourceRoutes registers a kind's collection and object routes in the
// Kubernetes REST shape: list (all namespaces and one), get, and for a
// writable kind create, create-or-replace and delete.
func (srv *Server) resourceRoutes(mux handleFuncer, res resource) {
	if c, ok := res.(configured); ok {
		res = c.withConfig(srv.cfg)
	}
	m := res.meta()
	coll, one := collectionPaths(m)
	if !m.cluster {
		mux.HandleFunc("GET "+m.base+"/"+m.plural, srv.viaServer(srv.listResource(res)))
	}
	mux.HandleFunc("GET "+coll, srv.viaServer(srv.listResource(res)))
	mux.HandleFunc("GET "+one, srv.viaServer(srv.getResource(res)))
	w, ok := res.(writable)
	switch {
	case !ok:
		srv.refuseRoutes(mux, res, []string{"POST", "DELETE"}, []string{"PUT", "PATCH", "DELETE"}, api.ControllerManaged(m.kind))
		return
	case m.fixed != "":
		srv.refuseRoutes(mux, res, []string{"POST", "DELETE"}, []string{"DELETE"}, errors.New(m.fixed))
	default:
		mux.HandleFunc("POST "+coll, srv.viaLeader(srv.writeResource(w, true)))
		mux.HandleFunc("DELETE "+one, srv.viaLeader(srv.deleteResource(w)))
		if !m.cluster { // Kubernetes serves no deletecollection of Namespaces
			mux.HandleFunc("DELETE "+coll, srv.viaLeader(srv.deleteCollection(w))) // resource_deletecollection.go
		}
	}
	mux.HandleFunc("PUT "+one, srv.viaLeader(srv.writeResource(w, false)))
}

// collectionPaths are where a kind's collection and its objects are served:
// under /namespaces/{ns}/, or for a cluster-scoped kind right under its
// base.
func collectionPaths(m kindMeta) (coll, one string) {
	coll = m.base + "/namespaces/{ns}/" + m.plural
	if m.cluster {
		coll = m.base + "/" + m.plural
	}
	return coll, coll + "/{name}"
}

// unlisted is a mux that serves a route without recording it for
// discovery and OpenAPI (kubeMux).
type unlisted interface {
	handleUnlisted(pattern string, h func(http.ResponseWriter, *http.Request))
}

// refuseRoutes answers the writes a kind does not serve (for a kind users
// do not write: create, update, patch, delete, deletecollection) as
// Kubernetes answers a verb a resource does not serve: 405
// MethodNotAllowed, here with why (api.ControllerManaged for a kind a
// controller keeps). The routes are not recorded, so discovery lists only
// the verbs served, and kubectl's client-side checks agree with the answer.
func (srv *Server) refuseRoutes(mux handleFuncer, res resource, onColl, onOne []string, why error) {
	m := res.meta()
	coll, one := collectionPaths(m)
	handle := mux.HandleFunc
	if u, ok := mux.(unlisted); ok {
		handle = u.handleUnlisted
	}
	if why == nil {
		why = fmt.Errorf("%s are read only", m.plural)
	}
	refuse := func(w http.ResponseWriter, r *http.Request) {
		what := m.plural
		if name := r.PathValue("name"); name != "" {
			what = fmt.Sprintf("%s %q", m.plural, name)
		}
		done := map[string]string{"POST": "created", "PUT": "updated", "PATCH": "patched", "DELETE": "deleted"}[r.Method]
		writeError(w, srv.log, &badRequest{reason: "MethodNotAllowed", code: http.StatusMethodNotAllowed,
			err: fmt.Errorf("%s may not be %s: %w", what, done, why)})
	}
	for _, method := range onColl {
		handle(method+" "+coll, refuse)
	}
	for _, method := range onOne {
		handle(method+" "+one, refuse)
	}
}

// resourceFields are the field selectors of a kind: metadata.name and
// metadata.namespace, as for every kind in Kubernetes, and its own.
func resourceFields(m kindMeta) []string {
	return append([]string{"metadata.name", "metadata.namespace"}, m.fields...)
}

// reader is a kind that reads its own bodies (pods: generateName, and
// errors that name the pod); the others are read by readNamespaced.
type reader interface {
	read(r *http.Request) (api.Object, error)
}

// fieldFilter reads ?fieldSelector for res: an unknown field is an error
// that names it, never ignored.
func fieldFilter(r *http.Request, res resource) (func(api.Object) bool, error) {
	terms, err := parseFieldSelector(r, resourceFields(res.meta())...)
	if err != nil {
		return nil, err
	}
	return func(o api.Object) bool {
		return matchFields(terms, func(f string) string {
			meta := api.MetaOf(o)
			switch f {
			case "metadata.name":
				return meta.Name
			case "metadata.namespace":
				return meta.Namespace
			}
			return res.field(o, f)
		})
	}, nil
}

// listResource answers the kind's objects that the namespace, label and
// field selectors take, sorted by namespace and name.
func (srv *Server) listResource(res resource) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		items, idx, err := srv.selected(r, res)
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		srv.atRead(res, items...)
		srv.writeList(w, res, items, idx)
	}
}

// selected is the kind's objects that the request's namespace, label and
// field selectors take, sorted by namespace and name, and the index they
// were read at.
func (srv *Server) selected(r *http.Request, res resource) ([]api.Object, uint64, error) {
	sel, err := selector(r)
	if err != nil {
		return nil, 0, err
	}
	fields, err := fieldFilter(r, res)
	if err != nil {
		return nil, 0, err
	}
	ns := r.PathValue("ns")
	items, idx := res.list(srv.fsm(), func(o api.Object) bool {
		meta := api.MetaOf(o)
		return (ns == "" || meta.Namespace == ns) && fields(o) && sel.Matches(labels.Set(meta.Labels))
	})
	if items == nil {
		items = []api.Object{}
	}
	sort.Slice(items, func(i, j int) bool {
		x, y := api.MetaOf(items[i]), api.MetaOf(items[j])
		return x.Namespace < y.Namespace || x.Namespace == y.Namespace && x.Name < y.Name
	})
	return items, idx, nil
}

// writeList answers items as the kind's List at index idx.
func (srv *Server) writeList(w http.ResponseWriter, res resource, items []api.Object, idx uint64) {
	m := res.meta()
	writeJSON(w, http.StatusOK, map[string]any{"apiVersion": m.apiVersion, "kind": m.listKind,
		"metadata": api.ListMeta{ResourceVersion: strconv.FormatUint(idx, 10)}, "items": items})
}

func (srv *Server) getResource(res resource) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		obj, err := res.get(srv.fsm(), r.PathValue("ns"), r.PathValue("name"))
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		srv.atRead(res, obj)
		writeJSON(w, http.StatusOK, obj)
	}
}

// atRead gives a readTimed kind's answers what the moment adds.
func (srv *Server) atRead(res resource, objs ...api.Object) {
	if rt, ok := res.(readTimed); ok && len(objs) > 0 {
		rt.atRead(srv, objs)
	}
}

// writeResource is POST (create only) and PUT (create or replace).
func (srv *Server) writeResource(res writable, create bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		obj, err := srv.readObject(r, res)
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		if name := api.MetaOf(obj).Name; !create && name != r.PathValue("name") {
			writeError(w, srv.log, invalid(&api.FieldError{Path: "metadata.name", Value: name,
				Detail: "does not match the name in the URL " + r.PathValue("name")}))
			return
		}
		if err := srv.admitNamespace(res, obj, create); err != nil { // kube_namespace_admission.go
			writeError(w, srv.log, err)
			return
		}
		var live api.Object
		if meta := api.MetaOf(obj); meta.Name != "" {
			live, _ = res.get(srv.fsm(), meta.Namespace, meta.Name)
		}
		obj = srv.applier.track(r, live, obj) // kube_apply.go
		srv.applyAndAnswer(w, r, res.write(obj, create, uuid.NewUUID(), time.Now().UTC()),
			func(out *consensus.Result) any {
				stored := res.stored(out)
				srv.atRead(res, stored)
				return stored
			})
	}
}

// readObject decodes a write's body into a defaulted, valid object of the
// kind whose namespace is the URL's.
func (srv *Server) readObject(r *http.Request, res writable) (api.Object, error) {
	if rd, ok := res.(reader); ok {
		return rd.read(r)
	}
	m := res.meta()
	obj := res.newObject()
	if err := readNamespaced(r, m.kind, m.apiVersion, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// deleteResource deletes the stored object, with its UID as the
// precondition, and answers it as it was.
func (srv *Server) deleteResource(res writable) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cur, err := res.get(srv.fsm(), r.PathValue("ns"), r.PathValue("name"))
		if consensus.IsNotFound(err) {
			// Only a state confirmed current may say so (leader_current.go).
			if berr := srv.readBarrier(r.Context()); berr != nil {
				writeNotWritten(w, "cannot confirm the object is gone: "+berr.Error())
				return
			}
			cur, err = res.get(srv.fsm(), r.PathValue("ns"), r.PathValue("name"))
		}
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		cmd, err := res.remove(r, cur)
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		out, err := srv.raft().Apply(r.Context(), cmd)
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		w.Header().Set(indexHeader, strconv.FormatUint(out.Index, 10))
		if out.Pod != nil {
			// A graceful delete: the pod stays, Terminating, until its
			// node has stopped it (consensus/pod_terminate.go).
			writeJSON(w, http.StatusOK, out.Pod)
			return
		}
		writeJSON(w, http.StatusOK, cur)
	}
}

// applyAndAnswer writes cmd through Raft and answers with what pick takes
// from the result: 201 when the command created the object, else 200, with
// the index it applied at.
func (srv *Server) applyAndAnswer(w http.ResponseWriter, r *http.Request, cmd consensus.Command, pick func(*consensus.Result) any) {
	out, err := srv.raft().Apply(r.Context(), cmd)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	w.Header().Set(indexHeader, strconv.FormatUint(out.Index, 10))
	code := http.StatusOK
	if out.Created {
		code = http.StatusCreated
	}
	writeJSON(w, code, pick(out))
}

// readBody reads a write's body, refusing one over the cap with 413.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, invalid(fmt.Errorf("read body: %w", err))
	}
	if len(body) > maxBodyBytes {
		return nil, &badRequest{reason: "RequestEntityTooLarge", code: http.StatusRequestEntityTooLarge, err: fmt.Errorf("request body larger than %d bytes", maxBodyBytes)}
	}
	if err := checkNesting(body); err != nil { // limits.go
		return nil, err
	}
	return body, nil
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

// statusWriter is a kind whose /status a client may write.
type statusWriter interface {
	writable
	// writeStatus is the command that writes obj's status onto cur.
	writeStatus(obj, cur api.Object) consensus.Command
}

// statusRoutes registers GET and PUT of a kind's /status (PATCH comes
// through them: kube_patch_generic.go).
func (srv *Server) statusRoutes(mux handleFuncer, res statusWriter) {
	m := res.meta()
	one := m.base + "/namespaces/{ns}/" + m.plural + "/{name}"
	mux.HandleFunc("GET "+one+"/status", srv.viaServer(srv.getResource(res)))
	mux.HandleFunc("PUT "+one+"/status", srv.viaLeader(srv.putStatus(res)))
}

// putStatus decodes the object strictly and writes only its status onto
// the stored one.
func (srv *Server) putStatus(res statusWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		obj := res.newObject()
		if err := api.DecodeStrict(body, obj); err != nil {
			writeError(w, srv.log, invalid(err))
			return
		}
		cur, err := res.get(srv.fsm(), r.PathValue("ns"), r.PathValue("name"))
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		srv.applyAndAnswer(w, r, res.writeStatus(obj, cur), func(out *consensus.Result) any { return res.stored(out) })
	}
}
