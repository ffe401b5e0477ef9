package agent

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A write forwarded to a leader that takes it and never answers (cut off
// with its packets dropped) gets a 504 Timeout in bounded time rather than
// hanging until the caller's own client gives up; an answer whose body
// streams for longer than the wait, like a snapshot, is not cut.
func TestForwardedWriteToASilentLeaderTimesOut(t *testing.T) {
	release := make(chan struct{})
	leader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-body" {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-time.After(300 * time.Millisecond)
			_, _ = io.WriteString(w, "whole")
			return
		}
		<-release
	}))
	defer leader.Close()
	defer close(release)
	a := &Agent{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	client := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.forwardWithin(w, r, strings.TrimPrefix(leader.URL, "http://"), 100*time.Millisecond)
	}))
	defer client.Close()
	code, st, raw := request(t, "POST", client.URL+"/api/v1/namespaces/default/pods", "application/yaml", "kind: Pod")
	if code != http.StatusGatewayTimeout || st.Reason != "Timeout" || !strings.Contains(st.Message, "may or may not") {
		t.Fatalf("HTTP %d: %s", code, raw)
	}
	resp, err := http.Get(client.URL + "/slow-body")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != "whole" {
		t.Fatalf("streamed answer: HTTP %d %q %v", resp.StatusCode, body, err)
	}
}
