package apiserver

import (
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
