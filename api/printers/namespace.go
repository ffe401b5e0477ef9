package printers

import (
	"time"

	"github.com/shoal-dev/shoal/api"
)

// NamespaceColumns are kubectl's NAME STATUS AGE.
func NamespaceColumns() []Column {
	return []Column{
		{"Name", "string", nameDesc, 0},
		{"Status", "string", "The status of the namespace", 0},
		{"Age", "string", ageDesc, 0},
	}
}

// Namespace is the row of n: its phase, Active or Terminating.
func Namespace(n *api.Namespace, now time.Time) []any {
	return []any{n.ObjectMeta.Name, string(n.Status.Phase), Age(n.ObjectMeta.CreationTimestamp.Time, now)}
}
