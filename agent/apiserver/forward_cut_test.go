package apiserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func (f *inFlight) count(target string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.byTarget[target])
}

// Requests forwarded to a server that gossip then declares failed (cut
// off, its packets dropped: it never answers) are cut at once, whether
// the server had sent no answer yet (a write, the assignments query) or
// was streaming one (a watch); requests to a live server are left alone.
// Before, they waited out their own timeouts (chaos seed 14: a client
// started the replicas it was given 14 s late).
func TestForwardsToAServerGossipDeclaredFailedAreCut(t *testing.T) {
	release := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/watch" {
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, "event\n")
			w.(http.Flusher).Flush()
		}
		<-release
	}))
	defer silent.Close()
	gone := strings.TrimPrefix(silent.URL, "http://")
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer other.Close()
	live := strings.TrimPrefix(other.URL, "http://")

	a := New(Config{Name: "c1"}, Deps{})
	client := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := gone
		if r.URL.Path == "/other" {
			target = live
		}
		a.forwardTo(w, r, target)
	}))
	defer client.Close()
	// First of the deferred: every handler still waiting returns, so the
	// servers' Close calls do not wait for them.
	defer close(release)

	type answer struct {
		code int
		body string
		err  error
	}
	get := func(path string) <-chan answer {
		out := make(chan answer, 1)
		go func() {
			resp, err := http.Get(client.URL + path)
			if err != nil {
				out <- answer{err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			out <- answer{code: resp.StatusCode, body: string(b), err: err}
		}()
		return out
	}
	query, watch, elsewhere := get("/assignments"), get("/watch"), get("/other")
	deadline := time.Now().Add(10 * time.Second)
	for a.inflight.count(gone) < 2 || a.inflight.count(live) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the three requests never got forwarded")
		}
		time.Sleep(5 * time.Millisecond)
	}

	if n := a.CutForwardsTo(); n != 0 {
		t.Fatalf("cut %d requests with no server failed", n)
	}
	if n := a.CutForwardsTo(gone); n != 2 {
		t.Fatalf("cut %d requests, want the 2 to the failed server", n)
	}
	q := <-query
	if q.err != nil || q.code != http.StatusBadGateway || !strings.Contains(q.body, "gossip declared") {
		t.Fatalf("the query to the failed server: HTTP %d %q %v; want a 502 saying why", q.code, q.body, q.err)
	}
	if w := <-watch; w.err == nil {
		t.Fatalf("the watch from the failed server ended cleanly (%q): want it broken, so its client watches again", w.body)
	}
	select {
	case e := <-elsewhere:
		t.Fatalf("the request to the live server was cut: %+v", e)
	default:
	}
	if a.inflight.count(live) != 1 {
		t.Fatal("the request to the live server is no longer in flight")
	}
}
