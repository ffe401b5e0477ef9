package apiserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// tokenRequestRoutes serves TokenRequest (authentication.k8s.io/v1) as the
// serviceaccounts/token subresource: `kubectl create token NAME` and the
// node's tokens for the pods it runs. It reads the ServiceAccount (and the
// pod a token is bound to) from a server's state and writes nothing.
func (srv *Server) tokenRequestRoutes(mux handleFuncer) {
	mux.HandleFunc("POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token", srv.viaServer(srv.createToken))
}

func (srv *Server) createToken(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	tr, err := readTokenRequest(r)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	claims, err := srv.tokenClaims(ns, name, tr, time.Now())
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	tok, err := signSAToken(saKey(srv.cfg.Token), claims)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	tr.APIVersion, tr.Kind = "authentication.k8s.io/v1", "TokenRequest"
	tr.Name, tr.Namespace = name, ns
	tr.CreationTimestamp = metav1.NewTime(time.Unix(claims.IssuedAt, 0).UTC())
	exp := claims.Expiry - claims.IssuedAt
	tr.Spec.ExpirationSeconds = &exp
	if len(tr.Spec.Audiences) == 0 {
		tr.Spec.Audiences = claims.Audience
	}
	tr.Status = authnv1.TokenRequestStatus{Token: tok, ExpirationTimestamp: metav1.NewTime(time.Unix(claims.Expiry, 0).UTC())}
	writeJSON(w, http.StatusCreated, tr)
}

// readTokenRequest decodes a TokenRequest body strictly; an empty body is
// a request with every default.
func readTokenRequest(r *http.Request) (*authnv1.TokenRequest, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	tr := &authnv1.TokenRequest{}
	if len(bytes.TrimSpace(body)) == 0 {
		return tr, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(tr); err != nil {
		return nil, invalid(fmt.Errorf("decode TokenRequest: %w", err))
	}
	if (tr.APIVersion != "" && tr.APIVersion != "authentication.k8s.io/v1") || (tr.Kind != "" && tr.Kind != "TokenRequest") {
		return nil, invalid(fmt.Errorf("body is %s %s, want authentication.k8s.io/v1 TokenRequest", tr.APIVersion, tr.Kind))
	}
	return tr, nil
}

// tokenClaims checks a TokenRequest against the state as Kubernetes does
// (the ServiceAccount exists, the lifetime is at least ten minutes, the
// bound object is a pod of the namespace that exists with the given UID)
// and makes the claims of its token.
func (srv *Server) tokenClaims(ns, name string, tr *authnv1.TokenRequest, now time.Time) (*saClaims, error) {
	st := srv.fsm()
	obj, err := getIn(st, "ServiceAccounts", serviceAccountStore.ServiceAccount, ns, name)
	if err != nil {
		return nil, err
	}
	sa := obj.(*api.ServiceAccount)
	invalidField := func(path, value, detail string) error {
		return &consensus.InvalidError{Kind: "TokenRequest", Namespace: ns, Name: name,
			Fields: api.FieldErrors{{Path: path, Value: value, Detail: detail}}}
	}
	secs := int64(saTokenDefaultSeconds)
	if e := tr.Spec.ExpirationSeconds; e != nil {
		secs = *e
	}
	if secs < saTokenMinSeconds {
		return nil, invalidField("spec.expirationSeconds", fmt.Sprint(secs), "may not specify a duration less than 10 minutes")
	}
	secs = min(secs, saTokenMaxSeconds)
	auds := tr.Spec.Audiences
	if len(auds) == 0 {
		auds = []string{saIssuer}
	}
	c := &saClaims{Issuer: saIssuer, Subject: saUser(ns, name), Audience: auds,
		IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: now.Unix() + secs, ID: string(uuid.NewUUID()),
		K8s: saK8s{Namespace: ns, ServiceAccount: saRef{Name: name, UID: sa.UID}}}
	if ref := tr.Spec.BoundObjectRef; ref != nil {
		if ref.Kind != api.KindPod || (ref.APIVersion != "" && ref.APIVersion != api.V1) {
			return nil, invalidField("spec.boundObjectRef.kind", ref.APIVersion+"/"+ref.Kind, "supported: v1/Pod")
		}
		p, err := st.Pod(ns, ref.Name)
		if err != nil {
			return nil, err
		}
		if ref.UID != "" && ref.UID != p.UID {
			return nil, &consensus.ConflictError{Kind: api.KindPod, Namespace: ns, Name: ref.Name,
				Reason: "the UID in the bound object reference (" + string(ref.UID) + ") does not correspond to the current object (" + string(p.UID) + ")"}
		}
		c.K8s.Pod = &saRef{Name: p.Name, UID: p.UID}
	}
	return c, nil
}
