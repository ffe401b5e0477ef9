package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// The API's limits on how a request may arrive, so that slow, oversized or
// many requests cost the agent a bounded amount of memory and no stuck
// goroutines (docs/bad-input.md). Sizes of bodies are capped in
// withMiddleware; JSON and YAML nesting in package api's decoders.
const (
	// headerTimeout closes a connection whose request line and headers
	// have not all arrived (slowloris). An idle keep-alive connection is
	// closed after as long, since no IdleTimeout or ReadTimeout is set.
	headerTimeout = 10 * time.Second
	// maxHeaderBytes caps a request's headers (net/http answers 431
	// beyond it); a bearer token or a client's headers fit many times.
	maxHeaderBytes = 64 << 10
	// bodyTimeout bounds the arrival of a document's body, counted from
	// when the handler starts reading it: 4 MiB at about 140 KiB/s. A
	// body slower than that is answered 408 and the connection closed.
	// No ReadTimeout is set on the server, since watches, logs and exec
	// streams are long requests whose context it would cancel.
	bodyTimeout = 30 * time.Second
	// bodyBudget bounds the bytes of request bodies being handled at
	// once: a request takes its declared length (the cap when it is sent
	// chunked) from it until its handler returns, so that many large
	// bodies at once cost a bounded amount of memory (and a write
	// waiting for Raft with a small body holds little). Past it a
	// request waits its turn, up to bodyTimeout, then gets 429.
	bodyBudget = 64 << 20
	// maxNesting is how deep a JSON (or YAML flow) body's brackets may
	// nest. The YAML parser refuses 10,000 levels itself, but only after
	// some 13 MiB of work on a 600 KB body; counted first, a deep body
	// costs nothing. A manifest nests a few dozen levels.
	maxNesting = 1000
)

// NewHTTPServer is the http.Server the agent serves its API with.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: headerTimeout, MaxHeaderBytes: maxHeaderBytes}
}

// errBodyTimeout is what reading a body that did not arrive in time gives;
// invalid turns it into 408.
var errBodyTimeout = fmt.Errorf("request body not received within %s", bodyTimeout)

// deadlineBody is a request body that must arrive by a deadline, set on
// the connection when the handler first reads it. net/http lifts it
// itself once the body is read to its end (its wait for the next request
// sets deadlines of its own), so a handler that answers for long after
// (a forwarded write waiting for the leader) is not cut short.
type deadlineBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	started bool
}

// withBodyDeadline wraps r's body; a body-less request is left alone.
func withBodyDeadline(w http.ResponseWriter, r *http.Request, timeout time.Duration) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	r.Body = &deadlineBody{ReadCloser: r.Body, rc: http.NewResponseController(w), timeout: timeout}
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if !b.started {
		b.started = true
		// Not supported (a writer that hides the connection): no deadline.
		_ = b.rc.SetReadDeadline(time.Now().Add(b.timeout))
	}
	n, err := b.ReadCloser.Read(p)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		err = errBodyTimeout
	}
	return n, err
}

// admitBody refuses a body whose declared length is over the cap with 413
// before reading any of it, and takes the body's share of the budget,
// answering 429 when none frees up in time. On ok, release must be
// called once the handler is done.
func (srv *Server) admitBody(w http.ResponseWriter, r *http.Request) (release func(), code int, ok bool) {
	if r.ContentLength > maxBodyBytes {
		err := &badRequest{reason: "RequestEntityTooLarge", code: http.StatusRequestEntityTooLarge,
			err: fmt.Errorf("request body larger than %d bytes (Content-Length %d)", maxBodyBytes, r.ContentLength)}
		writeError(w, srv.log, err)
		return nil, err.code, false
	}
	n := r.ContentLength
	if n < 0 {
		n = maxBodyBytes
	}
	if n == 0 || srv.bodies == nil {
		return func() {}, 0, true
	}
	ctx, cancel := context.WithTimeout(r.Context(), bodyTimeout)
	defer cancel()
	if err := srv.bodies.Acquire(ctx, n); err != nil {
		writeRetryLater(w, http.StatusTooManyRequests, "TooManyRequests",
			fmt.Sprintf("more than %d MiB of request bodies in flight for %s; retry in a moment", bodyBudget>>20, bodyTimeout))
		return nil, http.StatusTooManyRequests, false
	}
	return func() { srv.bodies.Release(n) }, 0, true
}

// checkNesting refuses a body whose brackets nest deeper than maxNesting,
// counting { and [ outside double-quoted strings of a body that starts
// with one (JSON, or YAML in flow style); a block-style YAML body is left
// to the parser's own limit.
func checkNesting(body []byte) error {
	i := 0
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n') {
		i++
	}
	if i == len(body) || (body[i] != '{' && body[i] != '[') {
		return nil
	}
	depth, inString, escaped := 0, false, false
	for _, b := range body[i:] {
		switch {
		case inString && escaped:
			escaped = false
		case inString && b == '\\':
			escaped = true
		case b == '"':
			inString = !inString
		case inString:
		case b == '{' || b == '[':
			depth++
			if depth > maxNesting {
				return &badRequest{reason: "BadRequest", code: http.StatusBadRequest,
					err: fmt.Errorf("exceeded max depth of %d: the body's brackets nest deeper", maxNesting)}
			}
		case b == '}' || b == ']':
			depth--
		}
	}
	return nil
}
