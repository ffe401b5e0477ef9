package printers

import (
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// ControllerRevisionColumns are kubectl's columns of a ControllerRevision.
func ControllerRevisionColumns() []Column {
	return []Column{
		{"Name", "string", nameDesc, 0},
		{"Controller", "string", "Controller of the object", 0},
		{"Revision", "integer", "Revision indicates the revision of the state represented by Data.", 0},
		{"Age", "string", ageDesc, 0},
	}
}

// ControllerRevision is the row of cr under ControllerRevisionColumns.
func ControllerRevision(cr *api.ControllerRevision, now time.Time) []any {
	controller := "<none>"
	if ref := api.ControllerOfMeta(&cr.ObjectMeta); ref != nil {
		// daemonset.apps/agent, as kubectl prints it.
		controller = strings.ToLower(ref.Kind)
		if group, _, ok := strings.Cut(ref.APIVersion, "/"); ok {
			controller += "." + group
		}
		controller += "/" + ref.Name
	}
	return []any{cr.Name, controller, cr.Revision, Age(cr.CreationTimestamp.Time, now)}
}
