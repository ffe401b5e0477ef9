package apiserver

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
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
	a := testServer("", nil, nil)
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

// A body cut short of its Content-Length gets the 400 the leader gives
// ("read body: unexpected EOF") from a follower too, and never reaches the
// leader; before, the proxy failed half-way and answered 502.
func TestForwardedShortBodyIsBadRequest(t *testing.T) {
	follower, reached := forwardingFollower(t, func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes+1)
	})
	conn, err := net.Dial("tcp", follower)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\nContent-Length: 100\r\n\r\nkind: Pod\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var st api.Status
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, raw)
	}
	if resp.StatusCode != http.StatusBadRequest || st.Reason != "BadRequest" || !strings.Contains(st.Message, "read body: unexpected EOF") {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, raw)
	}
	select {
	case <-reached:
		t.Fatal("the cut-off body was forwarded to the leader")
	default:
	}

	// A whole body still goes through.
	code, _, raw2 := request(t, "POST", "http://"+follower+"/api/v1/namespaces/default/pods", "application/yaml", "kind: Pod")
	if code != http.StatusCreated {
		t.Fatalf("whole body: HTTP %d: %s", code, raw2)
	}
	<-reached
}

// A client agent forwards writes to the leader while the body cap reads
// along: a body over the cap is the caller's 413, not a 502 that says the
// leader did not answer (found on a lab, through a client agent).
func TestForwardedHugeBodyIsRequestEntityTooLarge(t *testing.T) {
	leader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	}))
	defer leader.Close()
	a := testServer("", nil, nil)
	client := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes+1)
		a.forwardTo(w, r, strings.TrimPrefix(leader.URL, "http://"))
	}))
	defer client.Close()
	code, st, raw := request(t, "POST", client.URL+"/api/v1/namespaces/default/pods", "application/yaml", strings.Repeat("x", maxBodyBytes+100))
	if code != http.StatusRequestEntityTooLarge || st.Reason != "RequestEntityTooLarge" || !strings.Contains(st.Message, "larger than") {
		t.Fatalf("HTTP %d: %s", code, raw)
	}
	if code, _, raw := request(t, "POST", client.URL+"/api/v1/namespaces/default/pods", "application/yaml", "small"); code != http.StatusCreated {
		t.Fatalf("small body: HTTP %d: %s", code, raw)
	}
}

// forwardingFollower is a follower that forwards every write to a leader
// of its own, after prepare has set up the request as the middleware
// would; reached gets a value for each request the leader sees.
func forwardingFollower(t *testing.T, prepare func(http.ResponseWriter, *http.Request)) (addr string, reached <-chan struct{}) {
	t.Helper()
	seen := make(chan struct{}, 1)
	leader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- struct{}{}
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(leader.Close)
	a := testServer("", nil, nil)
	follower := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		prepare(w, r)
		a.forwardWrite(w, r, strings.TrimPrefix(leader.URL, "http://"))
	}))
	t.Cleanup(follower.Close)
	return strings.TrimPrefix(follower.URL, "http://"), seen
}
