package api

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// IntOrString is a port given as a number or as the name of a container
// port, decoded from either JSON form as in Kubernetes. It is shoal's own so
// that the api package keeps to the small part of apimachinery it needs.
type IntOrString struct {
	IsString bool
	IntVal   int32
	StrVal   string
}

// FromInt returns a numeric IntOrString.
func FromInt(v int32) IntOrString { return IntOrString{IntVal: v} }

// FromString returns a named IntOrString.
func FromString(s string) IntOrString { return IntOrString{IsString: true, StrVal: s} }

// UnmarshalJSON accepts a JSON number or string.
func (v *IntOrString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		v.IsString, v.IntVal = true, 0
		return json.Unmarshal(b, &v.StrVal)
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("expected a port number or name: %w", err)
	}
	if n < -1<<31 || n > 1<<31-1 {
		return fmt.Errorf("port %d out of range", n)
	}
	*v = IntOrString{IntVal: int32(n)}
	return nil
}

// MarshalJSON writes the form it was given.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.IsString {
		return json.Marshal(v.StrVal)
	}
	return json.Marshal(v.IntVal)
}

func (v IntOrString) String() string {
	if v.IsString {
		return v.StrVal
	}
	return strconv.Itoa(int(v.IntVal))
}
