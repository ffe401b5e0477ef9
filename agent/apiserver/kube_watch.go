package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// A watch (?watch=1 on a list) streams WatchEvents, one JSON object a line:
// ADDED, MODIFIED, DELETED, BOOKMARK, ERROR. It reads the state machine's
// change stream (consensus/changes.go), as Kubernetes' watch cache does:
// each write costs one filter and one write per watcher of its kind, never
// a list. resourceVersion is the Raft index:
//   - "" or "0": every current object as ADDED, then the changes;
//   - N: the changes after N, or an ERROR event with a 410 Expired Status
//     when N has left the window of kept changes (the client lists again);
//   - sendInitialEvents=true (watch-list, client-go's default): the current
//     objects as ADDED, then a BOOKMARK annotated
//     k8s.io/initial-events-end: "true", then the changes.
// With allowWatchBookmarks, an idle watcher gets a BOOKMARK carrying the
// current resourceVersion every bookmarkEvery. A watcher that falls too far
// behind is dropped by the stream and its response ends: the client
// watches again from the last resourceVersion it saw.

const (
	defaultWatchTimeout = 30 * time.Minute
	// bookmarkEvery is how often Kubernetes' watch cache sends bookmarks.
	bookmarkEvery = time.Minute
	// initialEventsEnd is the annotation of the bookmark that ends the
	// initial events of a watch-list.
	initialEventsEnd = "k8s.io/initial-events-end"
	// watchWriteWait bounds one write to a watcher. The stream drops a
	// watcher that stops reading, but its goroutine and connection would
	// stay blocked in Write until the client went away.
	watchWriteWait = 30 * time.Second
)

type watchEvent struct {
	Type   string `json:"type"`
	Object any    `json:"object"`
}

func isWatch(r *http.Request) bool {
	v := r.URL.Query().Get("watch")
	return v == "1" || v == "true"
}

// changeSource is the state that streams its changes (consensus.FSM).
type changeSource interface {
	Changes() *consensus.ChangeStream
}

// watchOptions are a watch's query parameters.
type watchOptions struct {
	from          uint64 // resourceVersion
	fromSet       bool   // resourceVersion given and not "0"
	initial       bool   // start with the current objects as ADDED
	initialEnd    bool   // end them with the initial-events-end bookmark
	bookmarks     bool   // allowWatchBookmarks
	timeout       time.Duration
	asTable       bool
	includeObject string
}

func parseWatchOptions(r *http.Request) (watchOptions, error) {
	q := r.URL.Query()
	o := watchOptions{timeout: defaultWatchTimeout, asTable: wantsTable(r), includeObject: q.Get("includeObject")}
	if v := q.Get("resourceVersion"); v != "" {
		var err error
		if o.from, err = strconv.ParseUint(v, 10, 64); err != nil {
			// A resourceVersion that is not an index would silently mean
			// "from the start": refuse it, as Kubernetes does.
			return o, invalid(fmt.Errorf("invalid resource version %q: must be a non-negative integer (a Raft index)", v))
		}
		o.fromSet = o.from != 0
	}
	if s, err := strconv.Atoi(q.Get("timeoutSeconds")); err == nil && s > 0 {
		o.timeout = time.Duration(s) * time.Second
	}
	o.bookmarks = q.Get("allowWatchBookmarks") == "true" || q.Get("allowWatchBookmarks") == "1"
	match := q.Get("resourceVersionMatch")
	switch sie := q.Get("sendInitialEvents"); sie {
	case "":
		// Kubernetes' legacy semantics: "" and "0" start with the
		// current objects, N with the changes after N.
		if match != "" {
			return o, invalid(&api.FieldError{Path: "resourceVersionMatch", Value: match, Detail: "forbidden for watch unless sendInitialEvents is provided"})
		}
		o.initial = !o.fromSet
	case "true", "false":
		if match != "NotOlderThan" {
			return o, invalid(&api.FieldError{Path: "resourceVersionMatch", Value: match, Detail: "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"})
		}
		if sie == "true" && !o.bookmarks {
			return o, invalid(&api.FieldError{Path: "allowWatchBookmarks", Value: "false", Detail: "sendInitialEvents requires setting allowWatchBookmarks to true"})
		}
		// The current state is never older than a resourceVersion this
		// server handed out, so it answers NotOlderThan N as it is.
		o.initial, o.initialEnd = sie == "true", sie == "true"
		if o.initial {
			o.from, o.fromSet = 0, false
		}
	default:
		return o, invalid(&api.FieldError{Path: "sendInitialEvents", Value: sie, Detail: "must be true or false"})
	}
	return o, nil
}

// serveWatch streams the changes of the kind list route rt serves. Clients
// hold no state: they hand the whole stream to a server (h forwards it),
// which the forwarding proxy passes on as it comes.
func (srv *Server) serveWatch(w http.ResponseWriter, r *http.Request, rt kubeRoute, h func(http.ResponseWriter, *http.Request)) {
	if !srv.isServer() {
		h(w, r)
		return
	}
	srv.streamWatch(w, r, resourceInfoFor(rt.resource).kind, bookmarkEvery)
}

func (srv *Server) streamWatch(w http.ResponseWriter, r *http.Request, kind string, every time.Duration) {
	opts, err := parseWatchOptions(r)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	filter, err := newWatchFilter(r, kind)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	src, ok := srv.fsm().(changeSource)
	if !ok || !consensus.IsStreamedKind(kind) {
		writeError(w, srv.log, &badRequest{reason: "MethodNotAllowed", code: http.StatusMethodNotAllowed,
			err: fmt.Errorf("watch is not supported for %s", pluralOf(kind))})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), opts.timeout)
	defer cancel()
	if !opts.initial && !opts.fromSet {
		// sendInitialEvents=false without a resourceVersion: from now.
		opts.from = srv.fsm().Index()
	}
	sub, subErr := src.Changes().Subscribe(kind, opts.from, opts.initial)
	if sub != nil {
		defer sub.Close()
	}

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(http.StatusOK)
	ws := &watchWriter{srv: srv, w: w, kind: kind, opts: opts, rc: http.NewResponseController(w)}
	ws.flusher, _ = w.(http.Flusher)
	ws.deadline()
	var expired *consensus.ExpiredError
	if errors.As(subErr, &expired) {
		// Kubernetes answers 200 and an ERROR event: reflectors read the
		// 410 and list again.
		ws.status(http.StatusGone, "Expired", expired.Error())
		ws.flush()
		return
	}
	if subErr != nil {
		ws.status(http.StatusInternalServerError, "InternalError", subErr.Error())
		ws.flush()
		return
	}

	sent := sub.Index // the resourceVersion the client has everything up to
	for _, c := range sub.Initial {
		if filter.matches(c.Namespace(), c.ObjectAttrs) && !ws.event("ADDED", c.Object) {
			return
		}
	}
	if opts.initialEnd && !ws.bookmark(sub.Index, true) {
		return
	}
	for _, c := range sub.Replay {
		if !ws.change(filter, c) {
			return
		}
		sent = c.Index
	}
	ws.flush()

	var tick <-chan time.Time
	if opts.bookmarks {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case c, ok := <-sub.C:
			if !ok {
				return // dropped: too slow, or the state was replaced
			}
			ws.deadline()
			if c.Index > opts.from && !ws.change(filter, c) {
				return
			}
			sent = max(sent, c.Index)
			// Write what else is already there before flushing once.
			for drained := false; !drained; {
				select {
				case c, ok := <-sub.C:
					if !ok {
						ws.flush()
						return
					}
					if c.Index > opts.from && !ws.change(filter, c) {
						return
					}
					sent = max(sent, c.Index)
				default:
					drained = true
				}
			}
			if !ws.flush() {
				return
			}
		case <-tick:
			// A bookmark may only claim an index the watcher has every
			// change of: none may wait in its channel.
			if idx, pending := sub.Position(); pending == 0 && idx > sent {
				sent = idx
				ws.deadline()
				if !ws.bookmark(idx, false) || !ws.flush() {
					return
				}
			}
		}
	}
}

// watchFilter is what a watcher asked for: a namespace (from the path), srv
// label selector and a field selector (fields by their JSON path).
type watchFilter struct {
	namespace string
	sel       labels.Selector
	fields    []fieldTerm
}

// watchFields are the field selectors of each kind, the same the lists
// accept, as far as the change stream's attributes hold them
// (consensus.Attrs); metadata.name and
// metadata.namespace for the others, as in Kubernetes.
func watchFields(kind string) []string {
	switch kind {
	case consensus.KindPod:
		return []string{"metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"}
	case consensus.KindNode:
		return []string{"metadata.name"}
	case consensus.KindEvent:
		return []string{"involvedObject.name", "involvedObject.namespace", "involvedObject.uid", "involvedObject.kind", "type", "reason"}
	}
	return []string{"metadata.name", "metadata.namespace"}
}

func newWatchFilter(r *http.Request, kind string) (*watchFilter, error) {
	sel, err := selector(r)
	if err != nil {
		return nil, err
	}
	fields, err := parseFieldSelector(r, watchFields(kind)...)
	if err != nil {
		return nil, err
	}
	return &watchFilter{namespace: r.PathValue("ns"), sel: sel, fields: fields}, nil
}

// matches tells whether an object passes the filter; attrs is called only
// when a selector needs them, so a watcher of a whole namespace costs no
// decoding.
func (f *watchFilter) matches(namespace string, attrs func() *consensus.Attrs) bool {
	if f.namespace != "" && namespace != f.namespace {
		return false
	}
	if f.sel.Empty() && len(f.fields) == 0 {
		return true
	}
	at := attrs()
	if at == nil {
		return false
	}
	return f.sel.Matches(labels.Set(at.Labels)) && matchFields(f.fields, func(field string) string { return at.Fields[field] })
}

// eventOf is what one change means to one watcher, as Kubernetes' cacher
// decides it: an object that starts matching is ADDED, one that keeps
// matching MODIFIED, one that is removed or stops matching DELETED (its
// last state, at the change's resourceVersion); nothing when it matched
// neither before nor after.
func (f *watchFilter) eventOf(c *consensus.Change) (typ string, obj json.RawMessage) {
	now := c.Object != nil && f.matches(c.Namespace(), c.ObjectAttrs)
	before := c.Prev != nil && f.matches(c.Namespace(), c.PrevAttrs)
	switch {
	case now && !before:
		return "ADDED", c.Object
	case now:
		return "MODIFIED", c.Object
	case before:
		return "DELETED", c.Gone()
	}
	return "", nil
}

// watchWriter writes one watch's events.
type watchWriter struct {
	srv     *Server
	w       http.ResponseWriter
	flusher http.Flusher
	kind    string
	opts    watchOptions
	rc      *http.ResponseController
	buf     bytes.Buffer
}

// deadline gives the writes that follow watchWriteWait to go out.
func (ws *watchWriter) deadline() {
	if ws.rc != nil {
		_ = ws.rc.SetWriteDeadline(time.Now().Add(watchWriteWait)) // not every writer has one
	}
}

func (ws *watchWriter) change(f *watchFilter, c *consensus.Change) bool {
	typ, obj := f.eventOf(c)
	if typ == "" {
		return true
	}
	return ws.event(typ, obj)
}

// event writes {"type":typ,"object":obj}: the object's JSON goes out as
// the stream holds it, encoded once for all watchers.
func (ws *watchWriter) event(typ string, obj json.RawMessage) bool {
	if ws.kind == consensus.KindNode {
		obj = ws.srv.nodeWithReadAnnotations(obj)
	}
	if ws.opts.asTable {
		if tbl, ok := toTable(obj, ws.opts.includeObject, time.Now()); ok {
			if b, err := json.Marshal(tbl); err == nil {
				obj = b
			}
		}
	}
	ws.buf.Reset()
	ws.buf.WriteString(`{"type":"`)
	ws.buf.WriteString(typ)
	ws.buf.WriteString(`","object":`)
	ws.buf.Write(obj)
	ws.buf.WriteString("}\n")
	_, err := ws.w.Write(ws.buf.Bytes())
	return err == nil
}

// bookmark tells the client it has everything up to index: an object of
// the watched kind with only its resourceVersion (and, after a
// watch-list's initial objects, the annotation that says they are done).
func (ws *watchWriter) bookmark(index uint64, initialEnd bool) bool {
	md := map[string]any{"resourceVersion": strconv.FormatUint(index, 10)}
	if initialEnd {
		md["annotations"] = map[string]string{initialEventsEnd: "true"}
	}
	b, err := json.Marshal(watchEvent{Type: "BOOKMARK", Object: map[string]any{
		"kind": ws.kind, "apiVersion": apiVersionOfKind(ws.kind), "metadata": md}})
	if err != nil {
		return false
	}
	_, err = ws.w.Write(append(b, '\n'))
	return err == nil
}

// status writes an ERROR event carrying a Status, as Kubernetes ends a
// watch it cannot serve.
func (ws *watchWriter) status(code int, reason, message string) {
	b, _ := json.Marshal(watchEvent{Type: "ERROR", Object: map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": message, "reason": reason, "code": code}})
	_, _ = ws.w.Write(append(b, '\n'))
}

func (ws *watchWriter) flush() bool {
	if ws.flusher != nil {
		ws.flusher.Flush()
	}
	return true
}

func apiVersionOfKind(kind string) string {
	for _, r := range resources() {
		if m := r.meta(); m.kind == kind {
			return m.apiVersion
		}
	}
	return "v1"
}

// nodeWithReadAnnotations gives a node in a watch event the annotations a
// list shows (node_view.go), as of now.
func (srv *Server) nodeWithReadAnnotations(raw json.RawMessage) json.RawMessage {
	var n api.Node
	if json.Unmarshal(raw, &n) != nil {
		return raw
	}
	srv.withReadAnnotations([]*api.Node{&n})
	out, err := json.Marshal(&n)
	if err != nil {
		return raw
	}
	return out
}
