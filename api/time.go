package api

import (
	"encoding/json"
	"time"
)

// Time is a timestamp with second precision in RFC 3339, as Kubernetes writes them.
type Time struct {
	time.Time
}

// NewTime wraps t, dropping what RFC 3339 at second precision cannot carry.
// A zero t gives nil: a zero Time is written as null and read back as a nil
// pointer, so anything else would not survive a JSON round trip (a state
// restored from a snapshot would differ from the one that wrote it).
func NewTime(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	return &Time{t.UTC().Truncate(time.Second)}
}

// MarshalJSON writes the time in RFC 3339, or null when zero.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339))
}

// UnmarshalJSON reads RFC 3339 or null.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	p, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return err
	}
	t.Time = p.UTC()
	return nil
}
