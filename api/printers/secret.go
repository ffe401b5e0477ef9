package printers

import (
	"time"

	"github.com/shoal-dev/shoal/api"
)

// SecretColumns are kubectl's NAME TYPE DATA AGE.
func SecretColumns() []Column {
	return []Column{
		{"Name", "string", nameDesc, 0},
		{"Type", "string", "The type of the secret", 0},
		{"Data", "string", "The number of keys in the secret", 0},
		{"Age", "string", ageDesc, 0},
	}
}

// Secret is the row of s: the number of its keys, never their values.
func Secret(s *api.Secret, now time.Time) []any {
	return []any{s.ObjectMeta.Name, string(s.Type), int64(len(s.Data)), Age(s.ObjectMeta.CreationTimestamp.Time, now)}
}
