package printers

import (
	"time"

	"github.com/shoal-dev/shoal/api"
)

// ServiceAccountColumns are kubectl's NAME SECRETS AGE.
func ServiceAccountColumns() []Column {
	return []Column{
		{"Name", "string", nameDesc, 0},
		{"Secrets", "string", "The number of token Secrets the ServiceAccount lists", 0},
		{"Age", "string", ageDesc, 0},
	}
}

// ServiceAccount is the row of sa.
func ServiceAccount(sa *api.ServiceAccount, now time.Time) []any {
	return []any{sa.ObjectMeta.Name, int64(len(sa.Secrets)), Age(sa.ObjectMeta.CreationTimestamp.Time, now)}
}
