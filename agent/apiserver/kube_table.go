package apiserver

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// kubectl get asks for a Table (Accept: application/json;as=Table;...) and
// prints its columns as they come; without one it falls back to NAME and
// AGE. negotiate answers the handlers' lists and objects as Tables for the
// kinds tableKinds knows, and anything else as the handler wrote it.

// tableColumn is one column of a Table (metav1.TableColumnDefinition).
type tableColumn struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Format      string `json:"format"`
	Description string `json:"description"`
	Priority    int32  `json:"priority"`
}

type tableRow struct {
	Cells  []any           `json:"cells"`
	Object json.RawMessage `json:"object,omitempty"`
}

type table struct {
	Kind              string        `json:"kind"`
	APIVersion        string        `json:"apiVersion"`
	Metadata          listMetaRV    `json:"metadata"`
	ColumnDefinitions []tableColumn `json:"columnDefinitions"`
	Rows              []tableRow    `json:"rows"`
}

type listMetaRV struct {
	ResourceVersion string `json:"resourceVersion,omitempty"`
}

// tableKind is how kubectl get shows one kind: its columns (priority 1 =
// only with -o wide) and the cells of one object.
type tableKind struct {
	columns []tableColumn
	// typed prints the object decoded into its Go type, with the printer
	// the CLI shares (api/printers).
	typed func(raw json.RawMessage, now time.Time) ([]any, error)
}

// tableKinds maps every served kind to its table (resource.go); its lists
// ("<Kind>List") are tabled too.
func tableKinds() map[string]tableKind {
	kinds := map[string]tableKind{}
	for _, res := range resources() {
		kinds[res.meta().kind] = res.table()
	}
	return kinds
}

// negotiate gives a resource's GET routes Table output and, on lists,
// ?watch streams.
func (srv *Server) negotiate(rt kubeRoute, h func(http.ResponseWriter, *http.Request)) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if !rt.named && isWatch(r) {
			srv.serveWatch(w, r, rt, h)
			return
		}
		if !wantsTable(r) {
			h(w, r)
			return
		}
		rec := newRecorder()
		h(rec, r)
		if rec.code == http.StatusOK {
			if tbl, ok := toTable(rec.body.Bytes(), r.URL.Query().Get("includeObject"), time.Now()); ok {
				writeJSON(w, http.StatusOK, tbl)
				return
			}
		}
		rec.copyTo(w)
	}
}

// wantsTable is true when the client accepts a meta.k8s.io Table.
func wantsTable(r *http.Request) bool {
	return strings.Contains(strings.ReplaceAll(r.Header.Get("Accept"), " ", ""), "as=Table")
}

// toTable turns a list or an object of a known kind into a Table; ok is
// false for anything else (a Status, a Table already made by the server a
// client forwarded to, an unknown kind).
func toTable(body []byte, includeObject string, now time.Time) (*table, bool) {
	var head struct {
		Kind       string            `json:"kind"`
		APIVersion string            `json:"apiVersion"`
		Metadata   listMetaRV        `json:"metadata"`
		Items      []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, false
	}
	kinds := tableKinds()
	kind, isList := strings.CutSuffix(head.Kind, "List")
	tk, ok := kinds[kind]
	if !ok {
		return nil, false
	}
	items := head.Items
	if !isList {
		items = []json.RawMessage{body}
	}
	tbl := &table{Kind: "Table", APIVersion: "meta.k8s.io/v1", Metadata: head.Metadata, ColumnDefinitions: tk.columns, Rows: []tableRow{}}
	for _, raw := range items {
		row, err := tableRowOf(tk, raw, kind, head.APIVersion, includeObject, now)
		if err != nil {
			return nil, false
		}
		tbl.Rows = append(tbl.Rows, row)
	}
	return tbl, true
}

func tableRowOf(tk tableKind, raw json.RawMessage, kind, apiVersion, includeObject string, now time.Time) (tableRow, error) {
	var o jsonObj
	if err := json.Unmarshal(raw, &o); err != nil {
		return tableRow{}, err
	}
	cells, err := tk.typed(raw, now)
	if err != nil {
		return tableRow{}, err
	}
	row := tableRow{Cells: cells}
	switch includeObject {
	case "None":
	case "Object":
		if o.str("kind") == "" {
			o["kind"], o["apiVersion"] = kind, apiVersion
		}
		row.Object, _ = json.Marshal(o)
	default:
		row.Object, _ = json.Marshal(map[string]any{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]})
	}
	return row, nil
}

// recorder keeps a handler's answer so that negotiate can turn it into a
// Table, or pass it on unchanged.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, code: http.StatusOK} }

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.code = code }

func (r *recorder) copyTo(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.code)
	if _, err := w.Write(r.body.Bytes()); err != nil {
		slog.Debug("write answer", "err", err)
	}
}

// writeBody writes v as JSON after the status line was written.
func writeBody(w http.ResponseWriter, v any) {
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write answer", "err", err)
	}
}
