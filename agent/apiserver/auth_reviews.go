package apiserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
)

// shoal has one credential, the fleet's bearer token (middleware.go): who
// holds it may do everything the API serves, and without a configured
// token everyone may. The review APIs say exactly that, so `kubectl auth
// can-i` and `auth whoami` answer honestly instead of failing: a verb on a
// resource shoal serves is allowed, and one on a resource it does not
// serve is not, with the reason.

const (
	// fleetUser is who a request holding the fleet's token is.
	fleetUser = "shoal:fleet-token"
	// reviewReason says why a request is allowed.
	reviewReason = "shoal has one credential, the fleet's token, and its holder may do everything shoal serves"
)

func (m *kubeMux) authReviewRoutes() {
	m.HandleFunc("POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews", m.selfSubjectAccessReview)
	m.HandleFunc("POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews", m.selfSubjectRulesReview)
	m.HandleFunc("POST /apis/authentication.k8s.io/v1/selfsubjectreviews", m.selfSubjectReview)
}

// decodeReview reads a review body, naming an unknown field.
func decodeReview(r *http.Request, into any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return invalid(fmt.Errorf("decode review: %w", err))
	}
	return nil
}

func (m *kubeMux) selfSubjectAccessReview(w http.ResponseWriter, r *http.Request) {
	var rev authzv1.SelfSubjectAccessReview
	if err := decodeReview(r, &rev); err != nil {
		writeError(w, m.srv.log, err)
		return
	}
	rev.APIVersion, rev.Kind = "authorization.k8s.io/v1", "SelfSubjectAccessReview"
	rev.Status = m.decide(rev.Spec.ResourceAttributes)
	writeJSON(w, http.StatusCreated, rev)
}

// decide answers whether the fleet's token may do what attrs asks: yes for
// a non-resource request or a verb some route of the resource serves.
func (m *kubeMux) decide(attrs *authzv1.ResourceAttributes) authzv1.SubjectAccessReviewStatus {
	if attrs == nil {
		return authzv1.SubjectAccessReviewStatus{Allowed: true, Reason: reviewReason}
	}
	res := attrs.Resource
	if attrs.Subresource != "" {
		res += "/" + attrs.Subresource
	}
	for _, rt := range m.routes {
		if (attrs.Group != "*" && rt.group != attrs.Group) || (attrs.Resource != "*" && rt.resource != attrs.Resource) ||
			(attrs.Resource != "*" && rt.sub != attrs.Subresource) {
			continue
		}
		if attrs.Verb == "*" || slices.Contains(routeVerbs(rt), attrs.Verb) {
			return authzv1.SubjectAccessReviewStatus{Allowed: true, Reason: reviewReason}
		}
	}
	return authzv1.SubjectAccessReviewStatus{Allowed: false,
		Reason: fmt.Sprintf("shoal does not serve %s on %q in API group %q", attrs.Verb, res, attrs.Group)}
}

func (m *kubeMux) selfSubjectRulesReview(w http.ResponseWriter, r *http.Request) {
	var rev authzv1.SelfSubjectRulesReview
	if err := decodeReview(r, &rev); err != nil {
		writeError(w, m.srv.log, err)
		return
	}
	rev.APIVersion, rev.Kind = "authorization.k8s.io/v1", "SelfSubjectRulesReview"
	rev.Status = authzv1.SubjectRulesReviewStatus{
		ResourceRules:    m.servedRules(),
		NonResourceRules: []authzv1.NonResourceRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}},
	}
	writeJSON(w, http.StatusCreated, rev)
}

// servedRules lists, per API group and resource, the verbs shoal serves.
func (m *kubeMux) servedRules() []authzv1.ResourceRule {
	type key struct{ group, resource string }
	var order []key
	verbs := map[key]map[string]bool{}
	for _, rt := range m.routes {
		k := key{rt.group, rt.resource}
		if rt.sub != "" {
			k.resource += "/" + rt.sub
		}
		if verbs[k] == nil {
			verbs[k] = map[string]bool{}
			order = append(order, k)
		}
		for _, v := range routeVerbs(rt) {
			verbs[k][v] = true
		}
	}
	var out []authzv1.ResourceRule
	for _, k := range order {
		rule := authzv1.ResourceRule{APIGroups: []string{k.group}, Resources: []string{k.resource}}
		for _, v := range kubeVerbs() {
			if verbs[k][v] {
				rule.Verbs = append(rule.Verbs, v)
			}
		}
		out = append(out, rule)
	}
	return out
}

func (m *kubeMux) selfSubjectReview(w http.ResponseWriter, r *http.Request) {
	var rev authnv1.SelfSubjectReview
	if err := decodeReview(r, &rev); err != nil {
		writeError(w, m.srv.log, err)
		return
	}
	rev.APIVersion, rev.Kind = "authentication.k8s.io/v1", "SelfSubjectReview"
	rev.Status.UserInfo = authnv1.UserInfo{Username: "system:anonymous", Groups: []string{"system:unauthenticated"}}
	if m.srv.cfg.Token != "" {
		rev.Status.UserInfo = authnv1.UserInfo{Username: fleetUser, Groups: []string{"system:authenticated"}}
	}
	writeJSON(w, http.StatusCreated, rev)
}
