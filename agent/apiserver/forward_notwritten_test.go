package apiserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// An agent says it wrote nothing only when that is so: it passed the
// write to no one (no leader known, or the hop limit), or the leader it
// reached said so. A forward that failed after the write left, for which
// the leader may have applied it, must not say it (the chaos checker
// counts a write with the header as refused, any other 5xx as unknown).
func TestNotWrittenOnlyWhenNothingWasWritten(t *testing.T) {
	notWrittenLeader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeNotWritten(w, "this agent leads but its state is not current yet")
	}))
	defer notWrittenLeader.Close()
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Took the write, then went away without an answer.
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer gone.Close()
	silent := make(chan struct{})
	silentLeader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-silent }))
	defer silentLeader.Close()
	defer close(silent)

	a := testServer("", nil, nil)
	for _, c := range []struct {
		name, target string
		hops         string
		wantCode     int
		wantHeader   bool
	}{
		{"no leader known", "", "", http.StatusServiceUnavailable, true},
		{"hop limit", strings.TrimPrefix(gone.URL, "http://"), "2", http.StatusServiceUnavailable, true},
		{"leader said nothing was written", strings.TrimPrefix(notWrittenLeader.URL, "http://"), "", http.StatusServiceUnavailable, true},
		{"leader took it and went away", strings.TrimPrefix(gone.URL, "http://"), "", http.StatusBadGateway, false},
		{"leader never answered", strings.TrimPrefix(silentLeader.URL, "http://"), "", http.StatusGatewayTimeout, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			follower := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.hops != "" {
					r.Header.Set(forwardedHeader, c.hops)
				}
				a.forwardWithin(w, r, c.target, 200*time.Millisecond)
			}))
			defer follower.Close()
			resp := deleteAt(t, follower.URL+"/api/v1/namespaces/default/secrets/lin-0")
			if resp.StatusCode != c.wantCode {
				t.Errorf("HTTP %d, want %d", resp.StatusCode, c.wantCode)
			}
			if got := resp.Header.Get(NotWrittenHeader) == "true"; got != c.wantHeader {
				t.Errorf("%s: %v, want %v", NotWrittenHeader, got, c.wantHeader)
			}
		})
	}
}
