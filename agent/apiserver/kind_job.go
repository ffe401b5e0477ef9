package apiserver

import (
	"net/http"
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
	return removeObject(r, consensus.KindJob, cur) // kube_delete_options.go
}

func (jobKind) stored(out *consensus.Result) api.Object { return out.Job }

// table is kubectl's NAME STATUS COMPLETIONS DURATION AGE (api/printers).
func (jobKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.JobColumns()), typed: typedRow(printers.Job)}
}

// writeStatus is a client's write of the status (statusRoutes), as
// Kubernetes allows; the leader's controller goes on from what it finds.
func (jobKind) writeStatus(obj, cur api.Object) consensus.Command {
	m := api.MetaOf(cur)
	return consensus.UpdateJobStatus{Namespace: m.Namespace, Name: m.Name, UID: m.UID, Status: obj.(*api.Job).Status}
}
