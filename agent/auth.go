package agent

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
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
