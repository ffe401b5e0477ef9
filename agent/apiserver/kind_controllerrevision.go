package apiserver

import (
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
)

// controllerRevisionStore is the part of the state that holds
// ControllerRevisions.
type controllerRevisionStore interface {
	ControllerRevision(namespace, name string) (*api.ControllerRevision, error)
	ControllerRevisions(filter func(*api.ControllerRevision) bool) ([]*api.ControllerRevision, uint64)
}

// controllerRevisionKind serves apps/v1 controllerrevisions, a
// DaemonSet's template history (kubectl rollout history and undo read
// them). Read and watch only: the leader's daemon set controller writes
// them (refuseRoutes refuses a user's write).
type controllerRevisionKind struct{}

func (controllerRevisionKind) meta() kindMeta {
	return kindMeta{kind: api.KindControllerRevision, apiVersion: api.AppsV1, listKind: "ControllerRevisionList",
		base: "/apis/apps/v1", plural: "controllerrevisions"}
}

func (controllerRevisionKind) get(st Store, ns, name string) (api.Object, error) {
	return getIn(st, "ControllerRevisions", controllerRevisionStore.ControllerRevision, ns, name)
}

func (controllerRevisionKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	return listIn(st, controllerRevisionStore.ControllerRevisions, match)
}

func (controllerRevisionKind) field(api.Object, string) string { return "" }

// table is kubectl's NAME CONTROLLER REVISION AGE (api/printers).
func (controllerRevisionKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.ControllerRevisionColumns()), typed: typedRow(printers.ControllerRevision)}
}
