package apiserver

import (
	"bufio"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/shoal-dev/shoal/api"
)

// openPath answers without a token: load balancers and supervisors probe
// these and they tell nothing about the fleet.
func openPath(p string) bool { return p == "/healthz" || p == "/readyz" || p == "/livez" }

// withMiddleware wraps the API: bearer-token check, a cap on request
// bodies for every endpoint, and request metrics.
func (srv *Server) withMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if srv.cfg.Token != "" && !openPath(r.URL.Path) {
			if msg := checkBearer(r, srv.cfg.Token); msg != "" {
				srv.request(r.Method, http.StatusUnauthorized)
				w.Header().Set("WWW-Authenticate", `Bearer realm="shoal"`)
				writeJSON(w, http.StatusUnauthorized, api.Status{
					TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Failure",
					Reason: "Unauthorized", Code: http.StatusUnauthorized, Message: msg,
				})
				return
			}
		}
		// Image archives have their own, larger limit (images.go),
		// and exec or attach streams are not documents; every other body
		// is a manifest or a status at most.
		if r.Body != nil && !streamingBody(r.URL.Path) {
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes+1)
		}
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		srv.request(r.Method, rec.code)
	})
}

func streamingBody(p string) bool {
	return p == "/shoal/v1/images" || strings.HasSuffix(p, "/exec") || strings.HasSuffix(p, "/attach") || strings.HasSuffix(p, "/portforward")
}

// checkBearer returns why the request is refused, or "" when its token is
// the fleet's. The comparison takes the same time whatever the token.
func checkBearer(r *http.Request, token string) string {
	h := r.Header.Get("Authorization")
	got, ok := strings.CutPrefix(h, "Bearer ")
	if h == "" || !ok {
		return "this agent requires a bearer token: set SHOAL_TOKEN or token in ~/.config/shoal/config.yaml (the fleet's token file)"
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
		return "the bearer token is not this fleet's token"
	}
	return ""
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
