package apiserver

import (
	"net/http"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
	"github.com/shoal-dev/shoal/consensus"
)

// eventStore is the part of the state that holds Events.
type eventStore interface {
	Event(namespace, name string) (*api.Event, error)
	Events(filter func(*api.Event) bool) ([]*api.Event, uint64)
}

// eventKind serves /api/v1/[namespaces/{ns}/]events: what agents and the
// leader recorded (through /shoal/v1/events, folded by
// consensus.RecordEvents), and what clients write under their own names,
// as client-go's event recorders create and then patch them.
type eventKind struct{}

func (eventKind) meta() kindMeta {
	return kindMeta{kind: api.KindEvent, apiVersion: "v1", listKind: "EventList", base: "/api/v1", plural: "events",
		fields: []string{"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
			"involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
			"reason", "reportingComponent", "source", "type"},
		shortNames: []string{"ev"}}
}

func (eventKind) newObject() api.Object { return &api.Event{} }

func (eventKind) get(st Store, ns, name string) (api.Object, error) {
	return getIn(st, "Events", eventStore.Event, ns, name)
}

func (eventKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	return listIn(st, eventStore.Events, match)
}

// field is one of the field selectors Kubernetes' event strategy indexes
// (pkg/registry/core/event/strategy.go ToSelectableFields), which kubectl
// describe sends.
func (eventKind) field(obj api.Object, name string) string {
	e := obj.(*api.Event)
	o := e.InvolvedObject
	switch name {
	case "involvedObject.kind":
		return o.Kind
	case "involvedObject.namespace":
		return o.Namespace
	case "involvedObject.name":
		return o.Name
	case "involvedObject.uid":
		return string(o.UID)
	case "involvedObject.apiVersion":
		return o.APIVersion
	case "involvedObject.resourceVersion":
		return o.ResourceVersion
	case "involvedObject.fieldPath":
		return o.FieldPath
	case "reason":
		return e.Reason
	case "reportingComponent":
		return e.ReportingController
	case "source":
		return e.Source.Component
	case "type":
		return e.Type
	}
	return ""
}

func (eventKind) write(obj api.Object, create bool, uid api.UID, now time.Time) consensus.Command {
	return consensus.ApplyEvent{Event: *obj.(*api.Event), Create: create, UID: uid, Time: now}
}

func (eventKind) remove(_ *http.Request, cur api.Object) (consensus.Command, error) {
	m := api.MetaOf(cur)
	return consensus.DeleteEvent{Namespace: m.Namespace, Name: m.Name, UID: m.UID}, nil
}

func (eventKind) stored(out *consensus.Result) api.Object { return out.Event }

// table is kubectl's LAST SEEN TYPE REASON OBJECT MESSAGE (api/printers).
func (eventKind) table() tableKind {
	return tableKind{columns: columnsOf(printers.EventColumns()), typed: typedRow(printers.Event)}
}
