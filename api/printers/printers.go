// Package printers holds one printer per kind: the columns and cells that
// both the API's Tables (kubectl get) and shoal's own CLI show, following
// Kubernetes' printers (pkg/printers/internalversion) for the fields shoal
// has.
package printers

import (
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
)

// Column is one column of a kind's table; Priority 1 columns show only
// with -o wide.
type Column struct {
	Name        string
	Type        string
	Description string
	Priority    int32
}

const (
	nameDesc = "Name must be unique within a namespace."
	ageDesc  = "CreationTimestamp is a timestamp representing the server time when this object was created."
)

// Age is how long ago t was, as kubectl shows it; "<unknown>" when unset.
func Age(t, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t))
}

// OrNone is s, or "<none>" when it is empty.
func OrNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// FormatLabels is "k=v,k2=v2" sorted by key, or "<none>".
func FormatLabels(m map[string]string) string {
	if len(m) == 0 {
		return "<none>"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}
