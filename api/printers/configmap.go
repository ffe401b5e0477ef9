package printers

import (
	"time"

	"github.com/shoal-dev/shoal/api"
)

// ConfigMapColumns are kubectl's NAME DATA AGE.
func ConfigMapColumns() []Column {
	return []Column{
		{"Name", "string", nameDesc, 0},
		{"Data", "string", "The number of keys in data and binaryData", 0},
		{"Age", "string", ageDesc, 0},
	}
}

// ConfigMap is the row of c: its keys counted, as kubectl does, over data
// and binaryData.
func ConfigMap(c *api.ConfigMap, now time.Time) []any {
	return []any{c.ObjectMeta.Name, int64(len(c.Data) + len(c.BinaryData)), Age(c.ObjectMeta.CreationTimestamp.Time, now)}
}
