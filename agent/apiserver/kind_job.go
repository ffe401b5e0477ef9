package apiserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
	"github.com/shoal-dev/shoal/consensus"
)

// jobStore is the part of the state that holds Jobs.
type jobStore interface {
	Job(namespace, name string) (*api.Job, error)
	Jobs(filter func(*api.Job) bool) ([]*api.Job, uint64)
}

// jobKind serves /apis/batch/v1/[namespaces/{ns}/]jobs. The state machine
// generates a Job's selector from its UID; its status is the leader's job
// controller's (agent/controllers/job.go).
type jobKind struct{}

var jobMeta = kindMeta{kind: api.KindJob, apiVersion: api.BatchV1, listKind: "JobList",
	base: "/apis/batch/v1", plural: "jobs", categories: []string{"all"}}

func (jobKind) meta() kindMeta { return jobMeta }

func (jobKind) newObject() api.Object { return &api.Job{} }

func (jobKind) get(st Store, ns, name string) (api.Object, error) {
	return getIn(st, "Jobs", jobStore.Job, ns, name)
}

func (jobKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	return listIn(st, jobStore.Jobs, match)
}

func (jobKind) field(api.Object, string) string { return "" }

func (jobKind) write(obj api.Object, create bool, uid api.UID, now time.Time) consensus.Command {
	return consensus.ApplyJob{Job: *obj.(*api.Job), Create: create, UID: uid, Time: now}
}

// remove deletes the Job and, unless the caller asks for
// propagationPolicy=Orphan, its pods: the same DeleteOptions an RC's
// delete reads.
func (jobKind) remove(r *http.Request, cur api.Object) (consensus.Command, error) {
	cmd, err := replicatedKind{jobMeta}.remove(r, cur)
	if err != nil {
		return nil, err
	}
	dc := cmd.(consensus.DeleteController)
	return consensus.DeleteJob{Namespace: dc.Namespace, Name: dc.Name, UID: dc.UID, Orphan: dc.Orphan}, nil
}

func (jobKind) stored(out *consensus.Result) api.Object { return out.Job }

// table is kubectl's NAME STATUS COMPLETIONS DURATION AGE (api/printers).
func (jobKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.JobColumns()), typed: typedRow(printers.Job)}
}

// jobSubresources registers /status of Jobs; the kind itself is served by
// resourceRoutes.
func (srv *Server) jobSubresources(mux handleFuncer) {
	one := jobMeta.base + "/namespaces/{ns}/" + jobMeta.plural + "/{name}"
	mux.HandleFunc("GET "+one+"/status", srv.viaServer(srv.getResource(jobKind{})))
	mux.HandleFunc("PUT "+one+"/status", srv.viaLeader(srv.putJobStatus))
}

// putJobStatus lets a client write the status, as Kubernetes does; the
// leader's job controller goes on from what it finds.
func (srv *Server) putJobStatus(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	var j api.Job
	if err := api.DecodeStrict(body, &j); err != nil {
		writeError(w, srv.log, invalid(err))
		return
	}
	ns, name := r.PathValue("ns"), r.PathValue("name")
	js, ok := srv.fsm().(jobStore)
	if !ok {
		writeError(w, srv.log, notFound("jobs", ns, name))
		return
	}
	cur, err := js.Job(ns, name)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	out, err := srv.raft().Apply(r.Context(), consensus.UpdateJobStatus{Namespace: ns, Name: name, UID: cur.UID, Status: j.Status})
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	w.Header().Set(indexHeader, strconv.FormatUint(out.Index, 10))
	writeJSON(w, http.StatusOK, out.Job)
}
