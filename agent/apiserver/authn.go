package apiserver

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// A caller is who a request comes from. The fleet's token (or anyone, on
// an open fleet) may do everything; a ServiceAccount's token
// (sa_token.go) only what authz.go allows a ServiceAccount. A holder of
// the fleet's token may act as another user (Impersonate-User, as kubectl
// --as sends it), which is how `kubectl auth can-i --as=...` asks.
type caller struct {
	// user and groups as Kubernetes' user info names them.
	user   string
	groups []string
	// admin: the fleet's token, or anyone on an open fleet.
	admin bool
	// saNamespace and saName are the ServiceAccount of a token or of an
	// impersonated system:serviceaccount: user; "" for other users.
	saNamespace, saName string
	// pod is the pod a token was bound to, nil when none.
	pod *saRef
}

type callerKey struct{}

func withCaller(ctx context.Context, c *caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// callerOf is the request's caller; the fleet itself when the middleware
// did not run (handlers called directly by a unit test).
func callerOf(r *http.Request) *caller {
	if c, ok := r.Context().Value(callerKey{}).(*caller); ok {
		return c
	}
	return &caller{user: fleetUser, groups: []string{"system:authenticated"}, admin: true}
}

func saCaller(ns, name string) *caller {
	return &caller{user: saUser(ns, name), saNamespace: ns, saName: name,
		groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}
}

// authenticate says who r comes from, or why it is refused (401).
func (srv *Server) authenticate(r *http.Request) (*caller, string) {
	h := r.Header.Get("Authorization")
	tok, bearer := strings.CutPrefix(h, "Bearer ")
	tok = strings.TrimSpace(tok)
	open := srv.cfg.Token == ""
	var c *caller
	switch {
	case h == "" || !bearer:
		if !open {
			return nil, "this agent requires a bearer token: set SHOAL_TOKEN or token in ~/.config/shoal/config.yaml (the fleet's token file)"
		}
		c = &caller{user: "system:anonymous", groups: []string{"system:unauthenticated"}, admin: true}
	case !open && subtle.ConstantTimeCompare([]byte(tok), []byte(srv.cfg.Token)) == 1:
		c = &caller{user: fleetUser, groups: []string{"system:authenticated"}, admin: true}
	case looksLikeJWT(tok):
		claims, err := verifySAToken(saKey(srv.cfg.Token), tok, time.Now())
		if err == nil {
			err = srv.checkBinding(claims)
		}
		if err != nil {
			return nil, "invalid bearer token: " + err.Error()
		}
		c = saCaller(claims.K8s.Namespace, claims.K8s.ServiceAccount.Name)
		c.pod = claims.K8s.Pod
	case open:
		c = &caller{user: "system:anonymous", groups: []string{"system:unauthenticated"}, admin: true}
	default:
		return nil, "the bearer token is not this fleet's token"
	}
	return c, ""
}

// checkBinding refuses a token whose ServiceAccount or pod is gone or was
// re-created (another UID), as Kubernetes does. Only a server can tell:
// a client holds no state and checks the signature and expiry alone.
func (srv *Server) checkBinding(c *saClaims) error {
	st := srv.fsm()
	if st == nil {
		return nil
	}
	sas, ok := st.(serviceAccountStore)
	if !ok {
		return nil
	}
	ns := c.K8s.Namespace
	sa, err := sas.ServiceAccount(ns, c.K8s.ServiceAccount.Name)
	if err != nil || sa.UID != c.K8s.ServiceAccount.UID {
		return errServiceAccountGone(ns, c.K8s.ServiceAccount.Name)
	}
	if p := c.K8s.Pod; p != nil {
		pod, err := st.Pod(ns, p.Name)
		if err != nil || pod.UID != p.UID || pod.DeletionTimestamp != nil {
			return &tokenError{"the pod " + ns + "/" + p.Name + " the token was bound to no longer exists"}
		}
	}
	return nil
}

type tokenError struct{ msg string }

func (e *tokenError) Error() string { return e.msg }

func errServiceAccountGone(ns, name string) error {
	return &tokenError{"the ServiceAccount " + ns + "/" + name + " the token was made for no longer exists"}
}

// impersonate applies Impersonate-User: the fleet may act as anyone, a
// ServiceAccount as nobody else (403, as Kubernetes answers without an
// impersonate grant).
func impersonate(c *caller, r *http.Request) (*caller, *api.Status) {
	as := r.Header.Get("Impersonate-User")
	if as == "" {
		return c, nil
	}
	if !c.admin {
		return nil, forbidden("users", as, "", "", c.user, "impersonate", "")
	}
	if ns, name, ok := parseSAUser(as); ok {
		return saCaller(ns, name), nil
	}
	groups := append(r.Header.Values("Impersonate-Group"), "system:authenticated")
	return &caller{user: as, groups: groups}, nil
}
