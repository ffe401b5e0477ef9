package apiserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
	"github.com/shoal-dev/shoal/consensus"
)

// cronJobStore is the part of the state that holds CronJobs.
type cronJobStore interface {
	CronJob(namespace, name string) (*api.CronJob, error)
	CronJobs(filter func(*api.CronJob) bool) ([]*api.CronJob, uint64)
}

// cronJobKind serves /apis/batch/v1/[namespaces/{ns}/]cronjobs; its
// status is the leader's cronjob controller's
// (agent/controllers/cronjob.go).
type cronJobKind struct{}

var cronJobMeta = kindMeta{kind: api.KindCronJob, apiVersion: api.BatchV1, listKind: "CronJobList",
	base: "/apis/batch/v1", plural: "cronjobs", shortNames: []string{"cj"}, categories: []string{"all"}}

func (cronJobKind) meta() kindMeta { return cronJobMeta }

func (cronJobKind) newObject() api.Object { return &api.CronJob{} }

func (cronJobKind) get(st Store, ns, name string) (api.Object, error) {
	return getIn(st, "CronJobs", cronJobStore.CronJob, ns, name)
}

func (cronJobKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	return listIn(st, cronJobStore.CronJobs, match)
}

func (cronJobKind) field(api.Object, string) string { return "" }

func (cronJobKind) write(obj api.Object, create bool, uid api.UID, now time.Time) consensus.Command {
	return consensus.ApplyCronJob{CronJob: *obj.(*api.CronJob), Create: create, UID: uid, Time: now}
}

// remove deletes the CronJob and, unless the caller asks for
// propagationPolicy=Orphan, its Jobs and their pods.
func (cronJobKind) remove(r *http.Request, cur api.Object) (consensus.Command, error) {
	cmd, err := replicatedKind{cronJobMeta}.remove(r, cur)
	if err != nil {
		return nil, err
	}
	dc := cmd.(consensus.DeleteController)
	return consensus.DeleteCronJob{Namespace: dc.Namespace, Name: dc.Name, UID: dc.UID, Orphan: dc.Orphan}, nil
}

func (cronJobKind) stored(out *consensus.Result) api.Object { return out.CronJob }

// table is kubectl's NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE
// AGE (api/printers).
func (cronJobKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.CronJobColumns()), typed: typedRow(printers.CronJob)}
}

// cronJobSubresources registers /status of CronJobs.
func (srv *Server) cronJobSubresources(mux handleFuncer) {
	one := cronJobMeta.base + "/namespaces/{ns}/" + cronJobMeta.plural + "/{name}"
	mux.HandleFunc("GET "+one+"/status", srv.viaServer(srv.getResource(cronJobKind{})))
	mux.HandleFunc("PUT "+one+"/status", srv.viaLeader(srv.putCronJobStatus))
}

// putCronJobStatus lets a client write the status, as Kubernetes does.
func (srv *Server) putCronJobStatus(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	var cj api.CronJob
	if err := api.DecodeStrict(body, &cj); err != nil {
		writeError(w, srv.log, invalid(err))
		return
	}
	ns, name := r.PathValue("ns"), r.PathValue("name")
	cs, ok := srv.fsm().(cronJobStore)
	if !ok {
		writeError(w, srv.log, notFound("cronjobs", ns, name))
		return
	}
	cur, err := cs.CronJob(ns, name)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	out, err := srv.raft().Apply(r.Context(), consensus.UpdateCronJobStatus{Namespace: ns, Name: name, UID: cur.UID, Status: cj.Status})
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	w.Header().Set(indexHeader, strconv.FormatUint(out.Index, 10))
	writeJSON(w, http.StatusOK, out.CronJob)
}
