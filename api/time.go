package api

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Time is Kubernetes' timestamp: RFC 3339 at second precision on the wire.
type Time = metav1.Time

// NewTime wraps t for an optional (pointer) timestamp, dropping what RFC
// 3339 at second precision cannot carry. A zero t gives nil: a zero Time is
// written as null and read back as a nil pointer, so anything else would
// not survive a JSON round trip (a state restored from a snapshot would
// differ from the one that wrote it).
func NewTime(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	v := TimeOf(t)
	return &v
}

// TimeOf wraps t for a timestamp held by value, at second precision in
// UTC; a zero t stays zero (written as null).
func TimeOf(t time.Time) Time {
	if t.IsZero() {
		return Time{}
	}
	return metav1.NewTime(t.UTC().Truncate(time.Second))
}
