package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// A watch (?watch=1 on a list) streams WatchEvents, one JSON object a line:
// ADDED, MODIFIED, DELETED. It follows the state machine with WaitIndex:
// each time the state's index moves it lists again through the same
// handler and sends what changed, so every list route, whoever wrote it,
// can be watched with its own selectors. resourceVersion is the state's
// index: a watch from "" or "0" first sends every object as ADDED; from an
// index N it sends objects changed after N as MODIFIED (shoal keeps no
// history, so a deletion between N and the start of the watch is missed).

const defaultWatchTimeout = 30 * time.Minute

type watchEvent struct {
	Type   string `json:"type"`
	Object any    `json:"object"`
}

// watchedItem is the last state of one object the watch sent.
type watchedItem struct {
	rv  string
	raw json.RawMessage
}

func isWatch(r *http.Request) bool {
	v := r.URL.Query().Get("watch")
	return v == "1" || v == "true"
}

// serveWatch streams the changes of list handler h. Clients hold no state:
// they hand the whole stream to a server, which the forwarding proxy
// passes on as it comes.
func (a *Agent) serveWatch(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request)) {
	if !a.isServer() {
		h(w, r)
		return
	}
	// A resourceVersion that is not an index would silently mean "from the
	// start": refuse it before the stream starts, as Kubernetes does.
	var since uint64
	if v := r.URL.Query().Get("resourceVersion"); v != "" {
		var err error
		if since, err = strconv.ParseUint(v, 10, 64); err != nil {
			writeError(w, a.log, invalid(fmt.Errorf("invalid resource version %q: must be a non-negative integer (a Raft index)", v)))
			return
		}
	}
	timeout := defaultWatchTimeout
	if s, err := strconv.Atoi(r.URL.Query().Get("timeoutSeconds")); err == nil && s > 0 {
		timeout = time.Duration(s) * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	listReq := r.Clone(ctx)
	q := listReq.URL.Query()
	for _, k := range []string{"watch", "resourceVersion", "resourceVersionMatch", "timeoutSeconds", "allowWatchBookmarks", "sendInitialEvents", "limit", "continue"} {
		q.Del(k)
	}
	listReq.URL.RawQuery = q.Encode()
	listReq.Header.Set("Accept", "application/json")

	asTable := wantsTable(r)
	includeObject := r.URL.Query().Get("includeObject")
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	var seen map[string]watchedItem
	started := false
	for {
		l, failed, err := listOnce(h, listReq)
		if failed != nil || err != nil {
			// Before the stream starts the client gets the list's own
			// error (a bad selector, no leader yet); after, the stream
			// ends and the client watches again, as from any server.
			switch {
			case started:
			case failed != nil:
				failed.copyTo(w)
			default:
				writeError(w, a.log, err)
			}
			return
		}
		if !started {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-cache, private")
			w.WriteHeader(http.StatusOK)
			started = true
		}
		events, next := diffWatch(seen, l, since)
		seen, since = next, 0
		for _, ev := range events {
			obj := any(ev.raw)
			if asTable {
				if tbl, ok := toTable(ev.raw, includeObject, time.Now()); ok {
					obj = tbl
				}
			}
			if err := enc.Encode(watchEvent{Type: ev.typ, Object: obj}); err != nil {
				return
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
		if _, err := a.fsm().WaitIndex(ctx, l.index); err != nil {
			return
		}
	}
}

// listed is one list answer, by object key.
type listed struct {
	index uint64
	keys  []string
	items map[string]watchedItem
}

type pendingEvent struct {
	typ string
	raw json.RawMessage
}

// listOnce runs the list handler and reads its items; a list that failed
// comes back as the handler's answer. Items get the kind of the list, so
// that each event's object names its kind as kubectl needs.
func listOnce(h func(http.ResponseWriter, *http.Request), r *http.Request) (*listed, *recorder, error) {
	rec := newRecorder()
	h(rec, r)
	if rec.code != http.StatusOK {
		return nil, rec, nil
	}
	var list struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
		Metadata   struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Items []jsonObj `json:"items"`
	}
	if err := json.Unmarshal(rec.body.Bytes(), &list); err != nil {
		return nil, nil, fmt.Errorf("decode list for watch: %w", err)
	}
	idx, _ := strconv.ParseUint(list.Metadata.ResourceVersion, 10, 64)
	l := &listed{index: idx, items: map[string]watchedItem{}}
	kind := list.Kind[:max(0, len(list.Kind)-len("List"))]
	for _, it := range list.Items {
		if it.str("kind") == "" {
			it["kind"], it["apiVersion"] = kind, list.APIVersion
		}
		key := it.str("metadata", "namespace") + "/" + it.str("metadata", "name")
		raw, err := json.Marshal(it)
		if err != nil {
			return nil, nil, fmt.Errorf("encode %s for watch: %w", key, err)
		}
		l.keys = append(l.keys, key)
		l.items[key] = watchedItem{rv: it.str("metadata", "resourceVersion"), raw: raw}
	}
	return l, nil, nil
}

// diffWatch compares a new list with what the watch sent. The first list
// (seen nil) sends everything newer than since, ADDED when since is 0.
func diffWatch(seen map[string]watchedItem, l *listed, since uint64) ([]pendingEvent, map[string]watchedItem) {
	var events []pendingEvent
	for _, k := range l.keys {
		it := l.items[k]
		switch old, ok := seen[k]; {
		case seen == nil && since == 0:
			events = append(events, pendingEvent{"ADDED", it.raw})
		case seen == nil:
			if rv, _ := strconv.ParseUint(it.rv, 10, 64); rv > since {
				events = append(events, pendingEvent{"MODIFIED", it.raw})
			}
		case !ok:
			events = append(events, pendingEvent{"ADDED", it.raw})
		case old.rv != it.rv:
			events = append(events, pendingEvent{"MODIFIED", it.raw})
		}
	}
	var gone []string
	for k := range seen {
		if _, ok := l.items[k]; !ok {
			gone = append(gone, k)
		}
	}
	sort.Strings(gone)
	for _, k := range gone {
		events = append(events, pendingEvent{"DELETED", withResourceVersion(seen[k].raw, l.index)})
	}
	return events, l.items
}

// withResourceVersion stamps a deleted object with the index its deletion
// was seen at, as Kubernetes does in DELETED events.
func withResourceVersion(raw json.RawMessage, index uint64) json.RawMessage {
	var o jsonObj
	if json.Unmarshal(raw, &o) != nil {
		return raw
	}
	if md, ok := asMap(o["metadata"]); ok {
		md["resourceVersion"] = strconv.FormatUint(index, 10)
	}
	out, err := json.Marshal(o)
	if err != nil {
		return raw
	}
	return out
}
