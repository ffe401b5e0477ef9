package apiserver

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strings"
)

// openPath answers without a token: load balancers and supervisors probe
// these and they tell nothing about the fleet.
func openPath(p string) bool { return p == "/healthz" || p == "/readyz" || p == "/livez" }

// withMiddleware wraps the API: bearer-token check, a cap on request
// bodies for every endpoint, and request metrics.
func (srv *Server) withMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !openPath(r.URL.Path) {
			c, refused := srv.admit(r) // authn.go, authz.go
			if refused != nil {
				srv.request(r.Method, int(refused.Code))
				if refused.Code == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Bearer realm="shoal"`)
				}
				writeJSON(w, int(refused.Code), refused)
				return
			}
			r = r.WithContext(withCaller(r.Context(), c))
		}
		// Image archives have their own, larger limit (images.go),
		// and exec or attach streams are not documents; every other body
		// is a manifest or a status at most.
		if r.Body != nil && !streamingBody(r.URL.Path) {
			release, code, ok := srv.admitBody(w, r) // limits.go
			if !ok {
				srv.request(r.Method, code)
				return
			}
			defer release()
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes+1)
			withBodyDeadline(w, r, bodyTimeout)
		}
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		srv.request(r.Method, rec.code)
	})
}

func streamingBody(p string) bool {
	return p == "/shoal/v1/images" || strings.HasSuffix(p, "/exec") || strings.HasSuffix(p, "/attach") || strings.HasSuffix(p, "/portforward")
}

// statusRecorder remembers the code a handler answered, for metrics. It
// passes Flush through so that watches and blocking queries still stream.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack passes connection takeover through for handlers that assert
// http.Hijacker directly (exec and attach upgrades).
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the connection cannot be taken over")
	}
	s.code = http.StatusSwitchingProtocols
	return h.Hijack()
}

// Unwrap lets http.ResponseController reach the real writer (hijacking
// for exec and attach, deadlines for long streams).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
