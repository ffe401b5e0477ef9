package apiserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/consensus"
)

// watchLab is a server agent's watch route over a state machine that the
// test writes to directly, at consecutive Raft indexes.
type watchLab struct {
	tb    testing.TB
	fsm   *consensus.FSM
	index uint64
	url   string // the pods of namespace default
}

func newWatchLab(tb testing.TB, every time.Duration) *watchLab {
	l := &watchLab{tb: tb, fsm: consensus.NewFSM()}
	a := testServer("", fixedSeat{store: l.fsm, log: watchSeat{}}, nil)
	mux := http.NewServeMux()
	rt := kubeRoute{method: "GET", version: "v1", resource: "pods", namespaced: true}
	h := a.negotiate(rt, a.listResource(podKind{}))
	if every > 0 {
		h = func(w http.ResponseWriter, r *http.Request) { a.streamWatch(w, r, consensus.KindPod, every) }
	}
	mux.HandleFunc("GET /api/v1/namespaces/{ns}/pods", h)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	l.url = srv.URL + "/api/v1/namespaces/default/pods"
	return l
}

// watchSeat is a follower's Raft seat: the watches only ask who leads.
type watchSeat struct{ Log }

func (watchSeat) Leader() (string, string) { return "n1", "10.0.0.1:7081" }
func (watchSeat) IsLeader() bool           { return false }

func (l *watchLab) apply(cmd consensus.Command) {
	l.tb.Helper()
	l.index++
	if _, err := l.fsm.ApplyCommand(l.index, cmd); err != nil {
		l.tb.Fatalf("%s: %v", cmd.Type(), err)
	}
}

// putPod creates or relabels a pod; built from JSON so that it does not
// depend on api's Go fields.
func (l *watchLab) putPod(name string, labels map[string]string) {
	l.tb.Helper()
	ls, _ := json.Marshal(labels)
	var c consensus.ApplyPod
	js := fmt.Sprintf(`{"pod":{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q,"namespace":"default","labels":%s},
		"spec":{"containers":[{"name":"app","image":"shoal.local/busybox:1","resources":{"requests":{"memory":"64Mi"}}}]}},
		"uid":"uid-%s","time":"2026-01-01T00:00:00Z"}`, name, ls, name)
	if err := json.Unmarshal([]byte(js), &c); err != nil {
		l.tb.Fatal(err)
	}
	l.apply(c)
}

func (l *watchLab) deletePod(name string) {
	l.apply(consensus.DeletePod{Namespace: "default", Name: name})
}

// wireEvent is one line of a watch as a test reads it.
type wireEvent struct {
	Type   string `json:"type"`
	Object struct {
		Kind     string `json:"kind"`
		Code     int    `json:"code"`
		Reason   string `json:"reason"`
		Metadata struct {
			Name            string            `json:"name"`
			ResourceVersion string            `json:"resourceVersion"`
			Labels          map[string]string `json:"labels"`
			Annotations     map[string]string `json:"annotations"`
		} `json:"metadata"`
	} `json:"object"`
}

func (e wireEvent) String() string {
	s := e.Type + " " + e.Object.Metadata.Name + "@" + e.Object.Metadata.ResourceVersion
	if e.Object.Metadata.Annotations[initialEventsEnd] == "true" {
		s += " initial-events-end"
	}
	if e.Type == "ERROR" {
		s = fmt.Sprintf("ERROR %d %s", e.Object.Code, e.Object.Reason)
	}
	return s
}

// watch opens a watch with query and returns its events as they come; the
// channel closes when the server ends the stream.
func (l *watchLab) watch(query string) <-chan wireEvent {
	l.tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l.tb.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", l.url+"?watch=1&"+query, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.tb.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		l.tb.Fatalf("watch %s: HTTP %d %s", query, resp.StatusCode, b)
	}
	out := make(chan wireEvent, 100)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev wireEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev.Type = "UNDECODABLE " + sc.Text()
			}
			out <- ev
		}
	}()
	return out
}

// expect reads len(want) events and compares them, one line each.
func expect(t *testing.T, events <-chan wireEvent, want ...string) {
	t.Helper()
	var got []string
	for range want {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("stream ended after %q, want %q", got, want)
			}
			got = append(got, ev.String())
		case <-time.After(10 * time.Second):
			t.Fatalf("got %q, then nothing; want %q", got, want)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func rvOf(i uint64) string { return strconv.FormatUint(i, 10) }

func TestWatchStartsWithCurrentPodsThenFollowsChanges(t *testing.T) {
	l := newWatchLab(t, 0)
	l.putPod("a", nil)
	l.putPod("b", nil)
	for _, rv := range []string{"", "0"} {
		events := l.watch("resourceVersion=" + rv)
		expect(t, events, "ADDED a@1", "ADDED b@2")
	}
	events := l.watch("")
	expect(t, events, "ADDED a@1", "ADDED b@2")
	l.putPod("a", map[string]string{"x": "1"})
	l.deletePod("b")
	expect(t, events, "MODIFIED a@3", "DELETED b@4")
}

func TestWatchFromAResourceVersionReplaysTheChangesAfterIt(t *testing.T) {
	l := newWatchLab(t, 0)
	l.putPod("a", nil)
	l.putPod("b", nil)
	l.putPod("a", map[string]string{"x": "1"})
	l.deletePod("b")
	expect(t, l.watch("resourceVersion=2"), "MODIFIED a@3", "DELETED b@4")
	events := l.watch("resourceVersion=4")
	l.putPod("c", nil)
	expect(t, events, "ADDED c@5")
}

func TestWatchFromAResourceVersionOutsideTheWindowIsExpired(t *testing.T) {
	l := newWatchLab(t, 0)
	for i := range consensus.DefaultChangeWindow + 2 {
		l.putPod("p", map[string]string{"n": strconv.Itoa(i)})
	}
	events := l.watch("resourceVersion=1")
	expect(t, events, "ERROR 410 Expired")
	if _, ok := <-events; ok {
		t.Error("the stream went on after the 410")
	}
	// The last kept change is still answered.
	expect(t, l.watch("resourceVersion="+rvOf(l.index-1)), "MODIFIED p@"+rvOf(l.index))
}

func TestWatchWithALabelSelectorSeesPodsEnterAndLeaveIt(t *testing.T) {
	l := newWatchLab(t, 0)
	l.putPod("a", map[string]string{"app": "web"})
	l.putPod("b", map[string]string{"app": "db"})
	events := l.watch("labelSelector=app%3Dweb")
	expect(t, events, "ADDED a@1")
	l.putPod("b", map[string]string{"app": "web"}) // starts matching
	l.putPod("a", map[string]string{"app": "db"})  // stops matching
	l.putPod("a", map[string]string{"app": "db2"}) // matched neither before nor after
	l.putPod("b", map[string]string{"app": "web", "v": "2"})
	l.deletePod("a") // not watched any more
	l.deletePod("b")
	// DELETED carries the last matching state at the change's version.
	expect(t, events, "ADDED b@3", "DELETED a@4", "MODIFIED b@6", "DELETED b@8")
	ev := <-l.watch("labelSelector=app%3Dweb&resourceVersion=3")
	if ev.String() != "DELETED a@4" || ev.Object.Metadata.Labels["app"] != "web" {
		t.Errorf("a pod that stopped matching: %s labels %v, want its last matching state", ev, ev.Object.Metadata.Labels)
	}
}

func TestWatchWithAFieldSelectorAndANamespace(t *testing.T) {
	l := newWatchLab(t, 0)
	l.putPod("a", nil)
	events := l.watch("fieldSelector=metadata.name%3Db")
	l.putPod("a", map[string]string{"x": "1"})
	l.putPod("b", nil)
	expect(t, events, "ADDED b@3")

	other := l.watch("") // namespace default
	l.apply(consensus.DeletePod{Namespace: "default", Name: "a"})
	var c consensus.CreatePod
	_ = json.Unmarshal([]byte(`{"pod":{"metadata":{"name":"z","namespace":"other"},"spec":{"containers":[{"name":"c","image":"i"}]}},"uid":"u","time":"2026-01-01T00:00:00Z"}`), &c)
	l.apply(c)
	l.putPod("c", nil)
	expect(t, other, "ADDED a@2", "ADDED b@3", "DELETED a@4", "ADDED c@6")

	code, b := do(t, "GET", l.url+"?watch=1&fieldSelector=spec.hostname%3Dx", "", "", "")
	if code != http.StatusBadRequest || !strings.Contains(string(b), "field label not supported: spec.hostname") {
		t.Errorf("bad field selector: %d %s", code, b)
	}
}

func TestWatchListSendsTheCurrentPodsThenTheInitialEventsEndBookmark(t *testing.T) {
	l := newWatchLab(t, 0)
	l.putPod("a", nil)
	l.putPod("b", nil)
	l.deletePod("a")
	// client-go's reflector with the WatchListClient feature (the default).
	q := "sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion="
	events := l.watch(q)
	expect(t, events, "ADDED b@2", "BOOKMARK @3 initial-events-end")
	l.putPod("c", nil)
	expect(t, events, "ADDED c@4")
	// From a resourceVersion: the state not older than it, which is now.
	expect(t, l.watch(q+"2"), "ADDED b@2", "ADDED c@4", "BOOKMARK @4 initial-events-end")
	for query, want := range map[string]string{
		"sendInitialEvents=true&allowWatchBookmarks=true":                                  "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
		"sendInitialEvents=true&resourceVersionMatch=NotOlderThan":                         "sendInitialEvents requires setting allowWatchBookmarks to true",
		"resourceVersionMatch=NotOlderThan":                                                "forbidden for watch unless sendInitialEvents is provided",
		"sendInitialEvents=yes&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true": "must be true or false",
	} {
		if code, b := do(t, "GET", l.url+"?watch=1&"+query, "", "", ""); code != http.StatusUnprocessableEntity || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %s, want 422 %q", query, code, b, want)
		}
	}
	// sendInitialEvents=false: only what comes next.
	events = l.watch("sendInitialEvents=false&resourceVersionMatch=NotOlderThan")
	l.putPod("d", nil)
	expect(t, events, "ADDED d@"+rvOf(l.index))
}

func TestWatchBookmarksTellAnIdleWatcherTheCurrentVersion(t *testing.T) {
	l := newWatchLab(t, 20*time.Millisecond)
	l.putPod("a", nil)
	events := l.watch("resourceVersion=1&allowWatchBookmarks=true")
	// Writes of another kind move the index; the watcher of pods hears of
	// it only through a bookmark.
	var n consensus.RegisterNode
	_ = json.Unmarshal([]byte(`{"node":{"metadata":{"name":"n1"},"status":{"allocatable":{"cpu":"1","memory":"1Gi"}}},"time":"2026-01-01T00:00:00Z"}`), &n)
	l.apply(n)
	expect(t, events, "BOOKMARK @2")
	l.putPod("b", nil)
	expect(t, events, "ADDED b@3")
	// Without allowWatchBookmarks, none.
	quiet := l.watch("resourceVersion=3")
	l.apply(n)
	l.putPod("c", nil)
	expect(t, quiet, "ADDED c@5")
	// The bookmarking watcher gets c too, after at most bookmarks.
	for ev := range events {
		if ev.String() == "ADDED c@5" {
			break
		}
		if ev.Type != "BOOKMARK" {
			t.Fatalf("before c: %s", ev)
		}
	}
}

func TestBookmarkCarriesOnlyKindAPIVersionAndResourceVersion(t *testing.T) {
	rec := httptest.NewRecorder()
	ws := &watchWriter{w: rec, kind: consensus.KindReplicaSet}
	ws.bookmark(42, false)
	if got := strings.TrimSpace(rec.Body.String()); got != `{"type":"BOOKMARK","object":{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"resourceVersion":"42"}}}` {
		t.Errorf("bookmark = %s", got)
	}
}

// A bookmark names its kind's group: a reflector of Deployments decodes
// apps/v1 (found when Deployments were served: bookmarks said v1).
func TestBookmarkAPIVersionFromTheKind(t *testing.T) {
	for kind, want := range map[string]string{"Pod": "v1", "Node": "v1", "ReplicaSet": "apps/v1", "Deployment": "apps/v1", "EndpointSlice": "discovery.k8s.io/v1", "Service": "v1"} {
		if got := apiVersionOfKind(kind); got != want {
			t.Errorf("apiVersionOfKind(%s) = %s, want %s", kind, got, want)
		}
	}
}
