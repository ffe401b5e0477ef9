package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// maxBodyBytes bounds every request body except image archives.
const maxBodyBytes = api.MaxManifestBytes

// Handler is the Kubernetes-shaped API every agent serves, plus shoal's
// own endpoints under /shoal/v1 and the agent's Config.Routes.
func (srv *Server) Handler() http.Handler {
	mux := srv.newKubeMux() // also serves discovery, Tables and ?watch: kube_*.go
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("GET /readyz", srv.readyz)
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("GET /api/v1/namespaces/{ns}/pods/{name}/status", srv.viaServer(srv.getResource(podKind{}))) // PATCH through GET and PUT
	mux.HandleFunc("GET /shoal/v1/snapshot", srv.viaLeader(srv.snapshot))

	mux.HandleFunc("POST /api/v1/namespaces/{ns}/pods/{name}/eviction", srv.viaLeader(srv.evictPod))

	mux.HandleFunc("PATCH /api/v1/namespaces/{ns}/pods/{name}", srv.viaLeader(srv.patchPod)) // kube_patch_pod.go
	mux.HandleFunc("PUT /api/v1/namespaces/{ns}/pods/{name}/status", srv.viaLeader(srv.updatePodStatus))
	mux.HandleFunc("GET /api/v1/namespaces/{ns}/pods/{name}/log", srv.onPodNode(srv.podLog))
	mux.HandleFunc("GET /api/v1/namespaces/{ns}/pods/{name}/exec", srv.onPodNode(srv.podExec))
	mux.HandleFunc("POST /api/v1/namespaces/{ns}/pods/{name}/exec", srv.onPodNode(srv.podExec))
	mux.HandleFunc("GET /api/v1/namespaces/{ns}/pods/{name}/attach", srv.onPodNode(srv.podAttach)) // attach.go
	mux.HandleFunc("POST /api/v1/namespaces/{ns}/pods/{name}/attach", srv.onPodNode(srv.podAttach))
	mux.HandleFunc("GET /api/v1/namespaces/{ns}/pods/{name}/portforward", srv.onPodNode(srv.podPortForward))
	mux.HandleFunc("POST /api/v1/namespaces/{ns}/pods/{name}/portforward", srv.onPodNode(srv.podPortForward))

	for _, res := range resources() { // resource.go
		srv.resourceRoutes(mux, res)
	}
	srv.replicationSubresources(mux) // kind_replicated.go
	srv.deploymentSubresources(mux)  // kind_deployment.go
	srv.tokenRequestRoutes(mux)      // sa_token_request.go
	for _, res := range []statusWriter{deploymentKind{replicatedKind{deployMeta}}, jobKind{}, cronJobKind{}, daemonSetKind{}} {
		srv.statusRoutes(mux, res) // resource_handlers.go
	}
	for _, rt := range srv.cfg.Routes {
		mux.HandleFunc(rt.Pattern, srv.via(rt.Via, rt.Handler))
	}
	mux.HandleFunc("GET /shoal/v1/readindex", srv.serveReadIndex) // readindex.go
	mux.HandleFunc("POST /shoal/v1/usage", srv.nodeUsage)         // metrics_api.go
	mux.HandleFunc("GET /shoal/v1/cluster", srv.cluster)
	mux.HandleFunc("GET /shoal/v1/nodes/{name}/assignments", srv.viaServer(srv.assignments))
	mux.HandleFunc("POST /shoal/v1/images", srv.importImage)
	mux.HandleFunc("GET /shoal/v1/images", srv.listImages)
	mux.HandleFunc("DELETE /shoal/v1/images", srv.removeImage)
	srv.pprofRoutes(mux) // pprof.go
	mux.addPatchRoutes() // after every route: kube_patch_generic.go
	return srv.withMiddleware(mux)
}

// via wraps h to run where v says.
func (srv *Server) via(v Via, h http.HandlerFunc) http.HandlerFunc {
	switch v {
	case OnServer:
		return srv.viaServer(h)
	case OnLeader:
		return srv.viaLeader(h)
	}
	return h
}

func (srv *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if srv.isServer() {
		if id, _ := srv.raft().Leader(); id == "" {
			http.Error(w, "no Raft leader known", http.StatusServiceUnavailable)
			return
		}
	}
	io.WriteString(w, "ok")
}

func (srv *Server) updatePodStatus(w http.ResponseWriter, r *http.Request) {
	var p api.Pod
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes)).Decode(&p); err != nil {
		writeError(w, srv.log, invalid(fmt.Errorf("decode pod status: %w", err)))
		return
	}
	res, err := srv.raft().Apply(r.Context(), consensus.UpdatePodStatus{
		Namespace: r.PathValue("ns"), Name: r.PathValue("name"), UID: p.ObjectMeta.UID,
		Node: p.Spec.NodeName, Status: p.Status, Time: time.Now().UTC(),
	})
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	w.Header().Set(indexHeader, strconv.FormatUint(res.Index, 10))
	writeJSON(w, http.StatusOK, res.Pod)
}

func selector(r *http.Request) (labels.Selector, error) {
	s := r.URL.Query().Get("labelSelector")
	sel, err := labels.Parse(s)
	if err != nil {
		return nil, invalid(&api.FieldError{Path: "labelSelector", Value: s, Detail: err.Error()})
	}
	return sel, nil
}

// AssignmentsView is the blocking query a node agent follows: the pods
// bound to it and the nodes (for peer routes), at a state index.
type AssignmentsView struct {
	Index uint64     `json:"index"`
	Pods  []api.Pod  `json:"pods"`
	Nodes []api.Node `json:"nodes"`
	// View names what the view holds (assignments_view.go).
	View string `json:"view,omitempty"`
}

// assignments answers at once when the state is newer than ?index, else
// waits until it is (or ?wait passes): a blocking query, not polling.
func (srv *Server) assignments(w http.ResponseWriter, r *http.Request) {
	after, _ := strconv.ParseUint(r.URL.Query().Get("index"), 10, 64)
	wait := 30 * time.Second
	if d, err := time.ParseDuration(r.URL.Query().Get("wait")); err == nil && d > 0 && d < 5*time.Minute {
		wait = d
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	held := r.URL.Query().Get("view") // assignments_view.go
	var same heldSince                // assignments_view.go
	gathered := false
	for {
		if _, err := srv.fsm().WaitIndex(ctx, after); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if !srv.isServer() { // the seat went while the query waited
			break
		}
		if idx, ok := srv.viewUnchanged(r.PathValue("name"), &same); ok && ctx.Err() == nil {
			after = idx // nothing of this node's changed, known without reading its pods
			continue
		}
		gen, genOK := srv.podsOnNodeGen(r.PathValue("name"))
		view := srv.assignmentsView(r.PathValue("name"))
		if held != "" && view.View == held && ctx.Err() == nil {
			after = view.Index // nothing of this node's changed: wait on
			same = heldSince{ok: genOK, gen: gen, sum: srv.routesAt(view.Index).sum}
			continue
		}
		if held != "" && !gathered && onlyRoutesChanged(held, view.View) && ctx.Err() == nil {
			gathered = true // assignments_view.go: gather the routes of a burst of joins
			gather := time.NewTimer(routesGather(len(srv.routesAt(view.Index).nodes)))
			select {
			case <-gather.C:
			case <-ctx.Done():
			}
			gather.Stop()
			continue
		}
		// A node acts on this view, removing what it does not list: answer
		// only from a state that has applied everything known to be committed
		// (the agent's StateChecker).
		if srv.stateCurrent(ctx) {
			// The check may have waited for the state to apply what was
			// committed (a server restarted from disk): answer the state
			// as it is now, not the view read before it
			// (assignments_current_test.go).
			writeJSON(w, http.StatusOK, srv.assignmentsAnswerFor(r.PathValue("name")))
			return
		}
		break
	}
	writeJSON(w, http.StatusServiceUnavailable, api.Status{
		TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Failure",
		Reason: "ServiceUnavailable", Code: http.StatusServiceUnavailable,
		Message: "this server has not caught up with the fleet's state yet; retry in a moment",
	})
}

// clusterView is shoal's own summary of the fleet.
type clusterView struct {
	Node    string       `json:"node"`
	Leader  string       `json:"leader"`
	Server  bool         `json:"server"`
	Members []memberView `json:"members"`
}

type memberView struct {
	Name   string `json:"name"`
	Addr   string `json:"addr"`
	API    string `json:"api"`
	Server bool   `json:"server"`
	Alive  bool   `json:"alive"`
}

func (srv *Server) cluster(w http.ResponseWriter, r *http.Request) {
	v := clusterView{Node: srv.cfg.Name, Server: srv.isServer(), Leader: srv.leaderName()}
	for _, m := range srv.members() {
		v.Members = append(v.Members, memberView(m))
	}
	writeJSON(w, http.StatusOK, v)
}
