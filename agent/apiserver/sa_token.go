package apiserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// ServiceAccount tokens are JWTs as Kubernetes' bound tokens are (the same
// claims: issuer, subject system:serviceaccount:NS:NAME, audiences, expiry,
// and under kubernetes.io the namespace, the ServiceAccount's name and UID
// and the pod they were made for), signed with HS256.
//
// The key is derived from the fleet's token with HMAC-SHA256 rather than
// stored through Raft: the fleet token is already the root of the API's
// trust (its holder may do everything) and every agent, server or client,
// holds it from the start, so every agent checks a ServiceAccount token
// locally, without state and without a new secret to distribute, back up
// or rotate. Changing the fleet token invalidates every ServiceAccount
// token; pods get new ones at their next rotation. An open fleet (no
// token) derives the key from nothing: anyone may then make a token, as
// anyone may already do everything without one, so there a token only
// says who the caller claims to be.

const (
	// saIssuer is the tokens' issuer and the API's audience, as
	// Kubernetes' default --service-account-issuer.
	saIssuer = "https://kubernetes.default.svc.cluster.local"
	// saTokenDefaultSeconds and saTokenMinSeconds are TokenRequest's
	// default and smallest expirationSeconds (Kubernetes' own: one hour,
	// ten minutes).
	saTokenDefaultSeconds = 3600
	saTokenMinSeconds     = 600
	// saTokenMaxSeconds caps a requested lifetime, as Kubernetes'
	// --service-account-max-token-expiration does when set.
	saTokenMaxSeconds = 48 * 3600
	saKeyLabel        = "shoal serviceaccount token signing key v1"
)

// saKey is the signing key of the fleet whose token is fleetToken.
func saKey(fleetToken string) []byte {
	m := hmac.New(sha256.New, []byte(fleetToken))
	m.Write([]byte(saKeyLabel))
	return m.Sum(nil)
}

// saClaims are a token's claims, named as Kubernetes names them.
type saClaims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  []string `json:"aud"`
	Expiry    int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
	NotBefore int64    `json:"nbf"`
	ID        string   `json:"jti,omitempty"`
	K8s       saK8s    `json:"kubernetes.io"`
}

type saK8s struct {
	Namespace      string `json:"namespace"`
	ServiceAccount saRef  `json:"serviceaccount"`
	Pod            *saRef `json:"pod,omitempty"`
}

type saRef struct {
	Name string  `json:"name"`
	UID  api.UID `json:"uid"`
}

// saUser is the user name Kubernetes gives a ServiceAccount.
func saUser(ns, name string) string { return "system:serviceaccount:" + ns + ":" + name }

// parseSAUser reads system:serviceaccount:NS:NAME.
func parseSAUser(user string) (ns, name string, ok bool) {
	rest, ok := strings.CutPrefix(user, "system:serviceaccount:")
	if !ok {
		return "", "", false
	}
	ns, name, ok = strings.Cut(rest, ":")
	return ns, name, ok && ns != "" && name != "" && !strings.Contains(name, ":")
}

var b64 = base64.RawURLEncoding

// jwtHeader is the only header shoal makes and accepts.
var jwtHeader = b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// signSAToken makes the JWT of c with key.
func signSAToken(key []byte, c *saClaims) (string, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode token claims: %w", err)
	}
	signed := jwtHeader + "." + b64.EncodeToString(body)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signed))
	return signed + "." + b64.EncodeToString(m.Sum(nil)), nil
}

// looksLikeJWT tells a ServiceAccount token from a fleet token, which is
// never three dot-separated parts.
func looksLikeJWT(tok string) bool { return strings.Count(tok, ".") == 2 }

// verifySAToken checks tok's signature, its time window at now and that
// the API is among its audiences, and returns its claims.
func verifySAToken(key []byte, tok string, now time.Time) (*saClaims, error) {
	head, rest, _ := strings.Cut(tok, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	if head != jwtHeader {
		return nil, errors.New("not a token this fleet signs (header)")
	}
	got, err := b64.DecodeString(sig)
	if err != nil {
		return nil, errors.New("malformed signature")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(head + "." + payload))
	if !hmac.Equal(got, m.Sum(nil)) {
		return nil, errors.New("signature does not match this fleet's key")
	}
	body, err := b64.DecodeString(payload)
	if err != nil {
		return nil, errors.New("malformed claims")
	}
	var c saClaims
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, fmt.Errorf("malformed claims: %w", err)
	}
	t := now.Unix()
	switch {
	case c.Issuer != saIssuer:
		return nil, fmt.Errorf("issuer %q is not %q", c.Issuer, saIssuer)
	case t >= c.Expiry:
		return nil, fmt.Errorf("token expired at %s", time.Unix(c.Expiry, 0).UTC().Format(time.RFC3339))
	case t < c.NotBefore-60: // a minute of clock skew between agents
		return nil, errors.New("token not valid yet")
	case !slices.Contains(c.Audience, saIssuer):
		return nil, fmt.Errorf("token audiences %v do not include the API's %q", c.Audience, saIssuer)
	}
	ns, name, ok := parseSAUser(c.Subject)
	if !ok || ns != c.K8s.Namespace || name != c.K8s.ServiceAccount.Name {
		return nil, fmt.Errorf("subject %q does not match the token's ServiceAccount", c.Subject)
	}
	return &c, nil
}
