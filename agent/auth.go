package agent

import (
	"bufio"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/shoal-dev/shoal/api"
)

// security is what an agent checks and presents: the API's bearer token
// and TLS (agent/tls.go). The zero value is an open fleet.
type security struct {
	token     string
	serverTLS *tls.Config // nil: the API speaks plain HTTP
	clientTLS *tls.Config // for this agent's calls to other agents
	raftTLS   *tls.Config // mutual TLS between Raft servers; nil: plain TCP
	// transport carries every call this agent makes to agents: one, so
	// connections are reused, with its own copy of clientTLS, because
	// net/http writes ALPN names into a transport's tls.Config.
	transport http.RoundTripper
}

// setupSecurity loads the token and the TLS material named in the config,
// so that a missing file stops the agent at start, not at the first call.
func (a *Agent) setupSecurity() error {
	if a.cfg.TokenFile != "" {
		b, err := os.ReadFile(a.cfg.TokenFile)
		if err != nil {
			return fmt.Errorf("token file: %w", err)
		}
		a.sec.token = strings.TrimSpace(string(b))
		if a.sec.token == "" {
			return fmt.Errorf("token file %s is empty", a.cfg.TokenFile)
		}
	}
	var err error
	a.sec.serverTLS, a.sec.clientTLS, a.sec.raftTLS, err = loadTLS(a.cfg)
	if err != nil {
		return err
	}
	a.sec.transport = newAgentTransport(a.sec)
	return nil
}

// openPath answers without a token: load balancers and supervisors probe
// these and they tell nothing about the fleet.
func openPath(p string) bool { return p == "/healthz" || p == "/readyz" }

// withMiddleware wraps the API: bearer-token check, a cap on request
// bodies for every endpoint, and request metrics.
func (a *Agent) withMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.sec.token != "" && !openPath(r.URL.Path) {
			if msg := checkBearer(r, a.sec.token); msg != "" {
				a.metrics.request(r.Method, http.StatusUnauthorized)
				w.Header().Set("WWW-Authenticate", `Bearer realm="shoal"`)
				writeJSON(w, http.StatusUnauthorized, api.Status{
					TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Failure",
					Reason: "Unauthorized", Code: http.StatusUnauthorized, Message: msg,
				})
				return
			}
		}
		// Image archives have their own, larger limit (agent/images.go),
		// and exec or attach streams are not documents; every other body
		// is a manifest or a status at most.
		if r.Body != nil && !streamingBody(r.URL.Path) {
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes+1)
		}
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		a.metrics.request(r.Method, rec.code)
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

// internalClient is the HTTP client for this agent's calls to other agents
// (and to its own API): it carries the fleet's token and speaks TLS when
// the fleet does. timeout 0 means none.
func (a *Agent) internalClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: a.internalTransport()}
}

// internalTransport adds the token and turns the http:// of an agent's
// address into https:// when the fleet uses TLS, so that callers build
// URLs from gossip addresses one way.
func (a *Agent) internalTransport() http.RoundTripper {
	if a.sec.transport != nil {
		return a.sec.transport
	}
	return newAgentTransport(a.sec) // an Agent a unit test built by hand
}

func newAgentTransport(sec security) http.RoundTripper {
	base := http.DefaultTransport.(*http.Transport).Clone()
	if sec.clientTLS != nil {
		base.TLSClientConfig = sec.clientTLS.Clone()
	}
	return &agentTransport{base: base, token: sec.token, tls: sec.clientTLS != nil}
}

type agentTransport struct {
	base  http.RoundTripper
	token string
	tls   bool
}

func (t *agentTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.token == "" && !t.tls {
		return t.base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	if t.token != "" {
		r.Header.Set("Authorization", "Bearer "+t.token)
	}
	if t.tls && r.URL.Scheme == "http" {
		r.URL.Scheme = "https"
	}
	return t.base.RoundTrip(r)
}

// applyGossipKey turns on memberlist's encryption with the fleet's key: an
// agent without it can neither read nor send gossip, so it cannot join.
func applyGossipKey(mc *memberlist.Config, key string) error {
	if key == "" {
		return nil
	}
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return fmt.Errorf("encrypt: not base64 (make one with `shoal keygen`): %w", err)
	}
	kr, err := memberlist.NewKeyring(nil, k)
	if err != nil {
		return fmt.Errorf("encrypt: %w (the key must be 16, 24 or 32 bytes; make one with `shoal keygen`)", err)
	}
	mc.Keyring = kr
	mc.GossipVerifyIncoming = true
	mc.GossipVerifyOutgoing = true
	return nil
}

// gossipKeyMismatch tells a join refused for encryption (one side has a
// key the other lacks or does not share) from a peer that is not up yet,
// so the first is logged loudly and the second quietly retried.
func gossipKeyMismatch(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "encrypt") || strings.Contains(msg, "decrypt") || strings.Contains(msg, "No installed keys could decrypt")
}
