package apiserver

import (
	"fmt"
	"net/http"
	"strings"
)

// fieldTerm is one term of a field selector: field=value or field!=value
// (== is the same as =).
type fieldTerm struct {
	field, value string
	not          bool
}

// parseFieldSelector reads ?fieldSelector, accepting only the fields in
// known: an unknown field is an error that names it, never ignored.
func parseFieldSelector(r *http.Request, known ...string) ([]fieldTerm, error) {
	fs := r.URL.Query().Get("fieldSelector")
	if fs == "" {
		return nil, nil
	}
	var terms []fieldTerm
	for _, part := range strings.Split(fs, ",") {
		var t fieldTerm
		var ok bool
		if t.field, t.value, ok = strings.Cut(part, "!="); ok {
			t.not = true
		} else if t.field, t.value, ok = strings.Cut(part, "=="); !ok {
			t.field, t.value, ok = strings.Cut(part, "=")
		}
		t.field = strings.TrimSpace(t.field)
		if !ok || !contains(known, t.field) {
			// Kubernetes' words, with what shoal supports.
			return nil, &badRequest{reason: "BadRequest", code: http.StatusBadRequest,
				err: fmt.Errorf("field label not supported: %s (fieldSelector supports %s with =, == or !=)", t.field, strings.Join(known, ", "))}
		}
		terms = append(terms, t)
	}
	return terms, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func matchFields(terms []fieldTerm, value func(field string) string) bool {
	for _, t := range terms {
		if (value(t.field) == t.value) == t.not {
			return false
		}
	}
	return true
}
