package apiserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// handleFuncer is the part of a mux the replication routes need.
// controllerStore is the part of the state that holds RCs and ReplicaSets.
type controllerStore interface {
	Controller(kind, namespace, name string) (api.Replicated, error)
	Controllers(kind string, filter func(api.Replicated) bool) ([]api.Replicated, uint64)
}

// controllerState returns the local state's RCs and ReplicaSets, nil on an
// agent without a Raft seat.
func (a *Server) controllerState() controllerStore {
	cs, _ := a.fsm().(controllerStore)
	return cs
}

type handleFuncer interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// replicatedResource is one of the two REST resources the replication
// controller serves: v1 replicationcontrollers and apps/v1 replicasets.
type replicatedResource struct {
	kind, apiVersion, listKind string
	base                       string // URL prefix before /namespaces
	plural                     string
	newObj                     func() api.Replicated
}

var (
	rcResource = replicatedResource{kind: api.KindReplicationController, apiVersion: "v1", listKind: "ReplicationControllerList",
		base: "/api/v1", plural: "replicationcontrollers", newObj: func() api.Replicated { return &api.ReplicationController{} }}
	rsResource = replicatedResource{kind: api.KindReplicaSet, apiVersion: api.AppsV1, listKind: "ReplicaSetList",
		base: "/apis/apps/v1", plural: "replicasets", newObj: func() api.Replicated { return &api.ReplicaSet{} }}
)

// replicationRoutes registers the RC and ReplicaSet endpoints in the
// Kubernetes REST shape, with /scale and /status subresources.
func (a *Server) replicationRoutes(mux handleFuncer) {
	for _, res := range []replicatedResource{rcResource, rsResource} {
		coll := res.base + "/namespaces/{ns}/" + res.plural
		one := coll + "/{name}"
		mux.HandleFunc("GET "+res.base+"/"+res.plural, a.viaServer(a.listReplicated(res)))
		mux.HandleFunc("GET "+coll, a.viaServer(a.listReplicated(res)))
		mux.HandleFunc("GET "+one, a.viaServer(a.getReplicated(res)))
		mux.HandleFunc("POST "+coll, a.viaLeader(a.writeReplicated(res, true)))
		mux.HandleFunc("PUT "+one, a.viaLeader(a.writeReplicated(res, false)))
		mux.HandleFunc("DELETE "+one, a.viaLeader(a.deleteReplicated(res)))
		mux.HandleFunc("GET "+one+"/scale", a.viaServer(a.getScale(res)))
		mux.HandleFunc("PUT "+one+"/scale", a.viaLeader(a.putScale(res)))
		mux.HandleFunc("GET "+one+"/status", a.viaServer(a.getReplicated(res)))
		mux.HandleFunc("PUT "+one+"/status", a.viaLeader(a.putReplicatedStatus(res)))
	}
}

func (a *Server) listReplicated(res replicatedResource) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sel, err := selector(r)
		if err != nil {
			writeError(w, a.log, err)
			return
		}
		ns := r.PathValue("ns")
		items, idx := a.controllerState().Controllers(res.kind, func(o api.Replicated) bool {
			return (ns == "" || api.MetaOf(o).Namespace == ns) && sel.Matches(labels.Set(api.MetaOf(o).Labels))
		})
		list := map[string]any{"apiVersion": res.apiVersion, "kind": res.listKind,
			"metadata": api.ListMeta{ResourceVersion: strconv.FormatUint(idx, 10)}, "items": nonNil(items)}
		writeJSON(w, http.StatusOK, list)
	}
}

func nonNil(items []api.Replicated) []api.Replicated {
	if items == nil {
		return []api.Replicated{}
	}
	return items
}

func (a *Server) getReplicated(res replicatedResource) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		obj, err := a.controllerState().Controller(res.kind, r.PathValue("ns"), r.PathValue("name"))
		if err != nil {
			writeError(w, a.log, err)
			return
		}
		writeJSON(w, http.StatusOK, obj)
	}
}

// writeReplicated is POST (create only) and PUT (create or replace).
func (a *Server) writeReplicated(res replicatedResource, create bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		obj, err := readReplicated(r, res)
		if err != nil {
			writeError(w, a.log, err)
			return
		}
		if !create && api.MetaOf(obj).Name != r.PathValue("name") {
			writeError(w, a.log, invalid(&api.FieldError{Path: "metadata.name", Value: api.MetaOf(obj).Name,
				Detail: "does not match the name in the URL " + r.PathValue("name")}))
			return
		}
		cmd := consensus.ApplyController{Create: create, UID: api.UID(newUID()), Time: time.Now().UTC()}
		switch o := obj.(type) {
		case *api.ReplicationController:
			cmd.RC = o
		case *api.ReplicaSet:
			cmd.RS = o
		}
		a.applyAndAnswer(w, r, cmd, func(out *consensus.Result) any { return out.Controller }) // api_secrets.go
	}
}

// deleteReplicated deletes the object and, unless the caller asks for
// propagationPolicy=Orphan (query or DeleteOptions body), its pods.
func (a *Server) deleteReplicated(res replicatedResource) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ns, name := r.PathValue("ns"), r.PathValue("name")
		policy := r.URL.Query().Get("propagationPolicy")
		if body, _ := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes)); len(strings.TrimSpace(string(body))) > 0 {
			var opts struct {
				PropagationPolicy string `json:"propagationPolicy"`
				OrphanDependents  *bool  `json:"orphanDependents"`
			}
			if err := json.Unmarshal(body, &opts); err != nil {
				writeError(w, a.log, invalid(fmt.Errorf("decode DeleteOptions: %w", err)))
				return
			}
			if opts.PropagationPolicy != "" {
				policy = opts.PropagationPolicy
			}
			if opts.OrphanDependents != nil && *opts.OrphanDependents {
				policy = "Orphan"
			}
		}
		switch policy {
		case "", "Background", "Foreground", "Orphan":
		default:
			writeError(w, a.log, invalid(&api.FieldError{Path: "propagationPolicy", Value: policy, Detail: "must be Orphan, Background or Foreground"}))
			return
		}
		obj, err := a.controllerState().Controller(res.kind, ns, name)
		if err != nil {
			writeError(w, a.log, err)
			return
		}
		out, err := a.raft().Apply(r.Context(), consensus.DeleteController{Kind: res.kind, Namespace: ns, Name: name,
			UID: api.MetaOf(obj).UID, Orphan: policy == "Orphan"})
		if err != nil {
			writeError(w, a.log, err)
			return
		}
		w.Header().Set(indexHeader, strconv.FormatUint(out.Index, 10))
		writeJSON(w, http.StatusOK, obj)
	}
}

func scaleOf(obj api.Replicated) api.Scale {
	m := api.MetaOf(obj)
	sel, _ := api.PodSelector(obj)
	selStr := ""
	if sel != nil {
		selStr = sel.String()
	}
	return api.Scale{
		TypeMeta:   api.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: api.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion, CreationTimestamp: m.CreationTimestamp},
		Spec:       api.ScaleSpec{Replicas: api.DesiredReplicas(obj)},
		Status:     api.ScaleStatus{Replicas: api.ReplicaStatus(obj).Replicas, Selector: selStr},
	}
}

func (a *Server) getScale(res replicatedResource) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		obj, err := a.controllerState().Controller(res.kind, r.PathValue("ns"), r.PathValue("name"))
		if err != nil {
			writeError(w, a.log, err)
			return
		}
		writeJSON(w, http.StatusOK, scaleOf(obj))
	}
}

func (a *Server) putScale(res replicatedResource) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			writeError(w, a.log, err)
			return
		}
		var sc api.Scale
		if err := api.DecodeStrict(body, &sc); err != nil {
			writeError(w, a.log, invalid(err))
			return
		}
		out, err := a.raft().Apply(r.Context(), consensus.ScaleController{Kind: res.kind, Namespace: r.PathValue("ns"), Name: r.PathValue("name"),
			Replicas: sc.Spec.Replicas, ResourceVersion: sc.ObjectMeta.ResourceVersion})
		if err != nil {
			writeError(w, a.log, err)
			return
		}
		w.Header().Set(indexHeader, strconv.FormatUint(out.Index, 10))
		writeJSON(w, http.StatusOK, scaleOf(out.Controller))
	}
}

// putReplicatedStatus lets a client write the status, as Kubernetes does;
// the leader's controller overwrites it at its next pass.
func (a *Server) putReplicatedStatus(res replicatedResource) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			writeError(w, a.log, err)
			return
		}
		obj := res.newObj()
		if err := api.DecodeStrict(body, obj); err != nil {
			writeError(w, a.log, invalid(err))
			return
		}
		ns, name := r.PathValue("ns"), r.PathValue("name")
		cur, err := a.controllerState().Controller(res.kind, ns, name)
		if err != nil {
			writeError(w, a.log, err)
			return
		}
		out, err := a.raft().Apply(r.Context(), consensus.UpdateControllerStatus{Kind: res.kind, Namespace: ns, Name: name,
			UID: api.MetaOf(cur).UID, Status: api.ReplicaStatus(obj)})
		if err != nil {
			writeError(w, a.log, err)
			return
		}
		w.Header().Set(indexHeader, strconv.FormatUint(out.Index, 10))
		writeJSON(w, http.StatusOK, out.Controller)
	}
}

func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, invalid(fmt.Errorf("read body: %w", err))
	}
	if len(body) > maxBodyBytes {
		return nil, &badRequest{reason: "RequestEntityTooLarge", code: http.StatusRequestEntityTooLarge, err: fmt.Errorf("request body larger than %d bytes", maxBodyBytes)}
	}
	return body, nil
}

// readReplicated decodes a body strictly into a defaulted, valid RC or
// ReplicaSet whose namespace is the URL's.
func readReplicated(r *http.Request, res replicatedResource) (api.Replicated, error) {
	obj := res.newObj()
	if err := readNamespaced(r, res.kind, res.apiVersion, obj); err != nil { // api_secrets.go
		return nil, err
	}
	return obj, nil
}
