package printers

import (
	"time"

	"github.com/shoal-dev/shoal/api"
)

// LeaseColumns are kubectl's NAME HOLDER AGE.
func LeaseColumns() []Column {
	return []Column{
		{"Name", "string", nameDesc, 0},
		{"Holder", "string", "Name of the Lease holder", 0},
		{"Age", "string", ageDesc, 0},
	}
}

// Lease is the row of l.
func Lease(l *api.Lease, now time.Time) []any {
	holder := ""
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	return []any{l.ObjectMeta.Name, holder, Age(l.ObjectMeta.CreationTimestamp.Time, now)}
}
