package api

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError names one problem with one field of a manifest.
type FieldError struct {
	Path   string // e.g. spec.containers[0].name
	Value  string // the offending value, if it helps the reader
	Detail string // why it is wrong
}

func (e *FieldError) Error() string {
	if e.Value != "" {
		return fmt.Sprintf("%s: invalid value %q: %s", e.Path, e.Value, e.Detail)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Detail)
}

// FieldErrors is every problem found in one object.
type FieldErrors []*FieldError

func (es FieldErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// orNil returns nil for an empty list so callers can `return errs.orNil()`.
func (es FieldErrors) orNil() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// AsFieldErrors extracts the field errors from err, if it carries any.
func AsFieldErrors(err error) FieldErrors {
	var list FieldErrors
	if errors.As(err, &list) {
		return list
	}
	var one *FieldError
	if errors.As(err, &one) {
		return FieldErrors{one}
	}
	return nil
}
