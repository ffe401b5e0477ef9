package apiserver

import (
	"net/http"
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
	return removeObject(r, consensus.KindCronJob, cur) // kube_delete_options.go
}

func (cronJobKind) stored(out *consensus.Result) api.Object { return out.CronJob }

// table is kubectl's NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE
// AGE (api/printers).
func (cronJobKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.CronJobColumns()), typed: typedRow(printers.CronJob)}
}

// writeStatus is a client's write of the status (statusRoutes), as
// Kubernetes allows; the leader's controller goes on from what it finds.
func (cronJobKind) writeStatus(obj, cur api.Object) consensus.Command {
	m := api.MetaOf(cur)
	return consensus.UpdateCronJobStatus{Namespace: m.Namespace, Name: m.Name, UID: m.UID, Status: obj.(*api.CronJob).Status}
}
