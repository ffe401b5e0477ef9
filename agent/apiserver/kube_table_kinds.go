package apiserver

import (
	"encoding/json"
	"time"

	"github.com/shoal-dev/shoal/api/printers"
)

// The columns and cells below follow Kubernetes' own printers
// (pkg/printers/internalversion), so kubectl get looks the same.

func col(name, typ, desc string, priority int32) tableColumn {
	c := tableColumn{Name: name, Type: typ, Description: desc, Priority: priority}
	if name == "Name" && priority == 0 {
		c.Format = "name"
	}
	return c
}

func podTable() tableKind {
	return tableKind{columns: columnsOf(printers.PodColumns()), typed: typedRow(printers.Pod)}
}

// columnsOf is a shared printer's columns (api/printers) as a Table's.
func columnsOf(cols []printers.Column) []tableColumn {
	out := make([]tableColumn, len(cols))
	for i, c := range cols {
		out[i] = col(c.Name, c.Type, c.Description, c.Priority)
	}
	return out
}

// typedRow decodes an object of kind T and prints it with print.
func typedRow[T any](print func(*T, time.Time) []any) func(json.RawMessage, time.Time) ([]any, error) {
	return func(raw json.RawMessage, now time.Time) ([]any, error) {
		obj := new(T)
		if err := json.Unmarshal(raw, obj); err != nil {
			return nil, err
		}
		return print(obj, now), nil
	}
}
