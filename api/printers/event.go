package printers

import (
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// EventColumns are kubectl's event columns.
func EventColumns() []Column {
	return []Column{
		{"Last Seen", "string", "The time the event was last seen", 0},
		{"Type", "string", "The type of event", 0},
		{"Reason", "string", "The reason for the event", 0},
		{"Object", "string", "The object this event is about", 0},
		{"Subobject", "string", "The subobject this event is about", 1},
		{"Source", "string", "The source of the event", 1},
		{"Message", "string", "The message of the event", 0},
		{"First Seen", "string", "The time the event was first seen", 1},
		{"Count", "string", "The number of times this event has been seen", 1},
		{"Name", "string", nameDesc, 1},
	}
}

// Event is the row of e under EventColumns: Kubernetes' printEvent, which
// reads the series and the events.k8s.io fields when the core ones are
// unset.
func Event(e *api.Event, now time.Time) []any {
	first := e.FirstTimestamp.Time
	if first.IsZero() {
		first = e.EventTime.Time
	}
	last := e.LastTimestamp.Time
	if e.Series != nil && !e.Series.LastObservedTime.IsZero() {
		last = e.Series.LastObservedTime.Time
	}
	if last.IsZero() {
		last = first
	}
	source := e.Source.Component
	if source == "" {
		source = e.ReportingController
	}
	if e.Source.Host != "" {
		source += ", " + e.Source.Host
	}
	count := e.Count
	if e.Series != nil && e.Series.Count > 0 {
		count = e.Series.Count
	}
	obj := e.InvolvedObject
	return []any{
		Age(last, now), e.Type, e.Reason, strings.ToLower(obj.Kind) + "/" + obj.Name,
		obj.FieldPath, source, strings.TrimSpace(e.Message),
		Age(first, now), int64(count), e.ObjectMeta.Name,
	}
}
