package apiserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A body that stops arriving is answered 408 Timeout once the body
// deadline passes; the connection then closes.
func TestSlowBodyIsAnswered408(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		withBodyDeadline(w, r, 200*time.Millisecond)
		if _, err := readBody(r); err != nil {
			writeError(w, slog.Default(), err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"kind\":")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), `"reason":"Timeout"`) || !strings.Contains(string(b), "not received within") {
		t.Fatalf("answer %d %s, want 408 Timeout", resp.StatusCode, b)
	}
}

func TestNewHTTPServerLimits(t *testing.T) {
	s := NewHTTPServer(http.NotFoundHandler())
	if s.ReadHeaderTimeout <= 0 || s.MaxHeaderBytes <= 0 {
		t.Fatalf("header limits unset: %+v", s)
	}
	if s.ReadTimeout != 0 || s.WriteTimeout != 0 {
		t.Fatal("a whole-request timeout would cut watches, logs and exec streams short")
	}
}

// readCounter fails the test's expectation if anyone reads it.
type readCounter struct{ reads int }

func (c *readCounter) Read(p []byte) (int, error) { c.reads++; return 0, io.EOF }

// A body declared larger than the cap is refused before a byte of it is
// read: fifty of them at once cost nothing.
func TestDeclaredOversizedBodyRefusedUnread(t *testing.T) {
	srv := testServer("", nil, nil)
	body := &readCounter{}
	r := httptest.NewRequest("POST", "/api/v1/namespaces/default/pods", body)
	r.ContentLength = maxBodyBytes + 1
	w := httptest.NewRecorder()
	if _, _, ok := srv.admitBody(w, r); ok {
		t.Fatal("admitted a body over the cap")
	}
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), `"reason":"RequestEntityTooLarge"`) || body.reads != 0 {
		t.Fatalf("answer %d %s after %d reads, want 413 RequestEntityTooLarge unread", w.Code, w.Body, body.reads)
	}
}

// With the budget of bodies in flight spent, a request waits for its
// share as long as its context lets it, then gets 429 with Retry-After;
// once a share is released the next one gets in.
func TestBodyBudgetAnswers429WhenSpent(t *testing.T) {
	srv := testServer("", nil, nil)
	if err := srv.bodies.Acquire(context.Background(), bodyBudget-100); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r := httptest.NewRequest("POST", "/x", strings.NewReader(strings.Repeat("x", 200))).WithContext(ctx)
	w := httptest.NewRecorder()
	if _, code, ok := srv.admitBody(w, r); ok || code != http.StatusTooManyRequests {
		t.Fatalf("admitted past the budget (code %d)", code)
	}
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), `"reason":"TooManyRequests"`) {
		t.Fatalf("answer %d %v %s, want 429 TooManyRequests with Retry-After", w.Code, w.Header(), w.Body)
	}
	small := httptest.NewRequest("POST", "/x", strings.NewReader(strings.Repeat("x", 100)))
	release, _, ok := srv.admitBody(httptest.NewRecorder(), small)
	if !ok {
		t.Fatal("a body that fits the rest of the budget was refused")
	}
	release()
	srv.bodies.Release(bodyBudget - 100)
	release, _, ok = srv.admitBody(httptest.NewRecorder(), httptest.NewRequest("POST", "/x", strings.NewReader(strings.Repeat("x", 200))))
	if !ok {
		t.Fatal("refused once the budget was free again")
	}
	release()
}

// A follower that forwards a write reads its body first: a body that
// stops arriving gets the same 408 there, and nothing reaches the leader.
func TestForwardedSlowBodyIs408(t *testing.T) {
	follower, reached := forwardingFollower(t, func(w http.ResponseWriter, r *http.Request) {
		withBodyDeadline(w, r, 200*time.Millisecond)
	})
	conn, err := net.Dial("tcp", follower)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\nContent-Length: 100\r\n\r\nkind: Pod\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), `"reason":"Timeout"`) {
		t.Fatalf("answer %d %s, want 408 Timeout", resp.StatusCode, b)
	}
	select {
	case <-reached:
		t.Fatal("the stalled body was forwarded to the leader")
	default:
	}
}

func TestCheckNesting(t *testing.T) {
	nest := func(d int) string { return strings.Repeat(`{"a":`, d) + "1" + strings.Repeat("}", d) }
	for _, c := range []struct {
		name, body string
		refused    bool
	}{
		{"at the limit", nest(maxNesting), false},
		{"one deeper", nest(maxNesting + 1), true},
		{"lists count too", strings.Repeat("[", maxNesting+1), true},
		{"brackets in strings do not", `{"a":"` + strings.Repeat("{[", 2*maxNesting) + `"}`, false},
		{"nor after an escaped quote", `{"a":"\"` + strings.Repeat("{", 2*maxNesting) + `"}`, false},
		{"block YAML is the parser's", "a:\n  b: " + strings.Repeat("{", 2*maxNesting), false},
	} {
		err := checkNesting([]byte(c.body))
		if (err != nil) != c.refused {
			t.Errorf("%s: err %v, refused want %v", c.name, err, c.refused)
			continue
		}
		if err != nil {
			if st := statusError(err); st.Code != http.StatusBadRequest || st.Reason != "BadRequest" || !strings.Contains(st.Message, "max depth of 1000") {
				t.Errorf("%s: %d %s %q", c.name, st.Code, st.Reason, st.Message)
			}
		}
	}
}
