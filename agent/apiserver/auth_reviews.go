package apiserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
)

// Who holds the fleet's bearer token may do everything the API serves,
// and without a configured token everyone may; a ServiceAccount's token
// (or the fleet acting as one, kubectl --as) may do what authz.go allows
// a ServiceAccount. The review APIs say exactly that, so `kubectl auth
// can-i` and `auth whoami` answer honestly instead of failing: a verb on a
// resource shoal serves is allowed when the caller's rules allow it, and
// one on a resource it does not serve is not, with the reason.

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
	rev.Status = m.decide(callerOf(r), rev.Spec.ResourceAttributes, rev.Spec.NonResourceAttributes)
	writeJSON(w, http.StatusCreated, rev)
}

// decide answers whether c may do what attrs (or nonResource) asks: the
// caller's rules allow it (authz.go) and, for a resource, some route of
// the resource serves the verb.
func (m *kubeMux) decide(c *caller, attrs *authzv1.ResourceAttributes, nonResource *authzv1.NonResourceAttributes) authzv1.SubjectAccessReviewStatus {
	if attrs == nil {
		if !c.admin && (nonResource == nil || !c.allows(reqAttrs{verb: nonResource.Verb, path: nonResource.Path})) {
			return authzv1.SubjectAccessReviewStatus{Reason: c.user + " may read only discovery, /version, OpenAPI and the health checks outside the API's resources"}
		}
		return authzv1.SubjectAccessReviewStatus{Allowed: true, Reason: reviewReason}
	}
	if !c.admin {
		a := reqAttrs{resourceRequest: true, verb: attrs.Verb, group: attrs.Group, resource: attrs.Resource,
			sub: attrs.Subresource, ns: attrs.Namespace, name: attrs.Name}
		if !c.allows(a) {
			return authzv1.SubjectAccessReviewStatus{Reason: forbiddenMessage(c.user, a) + ": " + saRulesReason}
		}
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
	if c := callerOf(r); !c.admin {
		rev.Status = m.callerRules(c, rev.Spec.Namespace)
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
	c := callerOf(r)
	rev.Status.UserInfo = authnv1.UserInfo{Username: c.user, Groups: c.groups}
	if c.saNamespace != "" && c.pod != nil {
		rev.Status.UserInfo.Extra = map[string]authnv1.ExtraValue{
			"authentication.kubernetes.io/pod-name": {c.pod.Name}, "authentication.kubernetes.io/pod-uid": {string(c.pod.UID)}}
	}
	writeJSON(w, http.StatusCreated, rev)
}

// saRulesReason says why a ServiceAccount may not.
const saRulesReason = "shoal has no RBAC: a ServiceAccount may do everything in its own namespace and read Nodes and Namespaces"

// callerRules are the rules of a caller other than the fleet in namespace
// ns: the served rules of its own namespace's resources, reads of Nodes
// and Namespaces, its own reviews and the open paths.
func (m *kubeMux) callerRules(c *caller, ns string) authzv1.SubjectRulesReviewStatus {
	out := authzv1.SubjectRulesReviewStatus{
		NonResourceRules: []authzv1.NonResourceRule{{Verbs: []string{"get"},
			NonResourceURLs: []string{"/api", "/api/*", "/apis", "/apis/*", "/version", "/openapi/*", "/healthz", "/livez", "/readyz"}}},
		ResourceRules: []authzv1.ResourceRule{
			{Verbs: []string{"create"}, APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"selfsubjectaccessreviews", "selfsubjectrulesreviews"}},
			{Verbs: []string{"create"}, APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"selfsubjectreviews"}},
		},
	}
	if c.saNamespace == "" {
		return out
	}
	out.ResourceRules = append(out.ResourceRules, authzv1.ResourceRule{Verbs: readVerbs, APIGroups: []string{""}, Resources: []string{"nodes", "namespaces"}})
	if ns != c.saNamespace {
		return out
	}
	namespaced := map[string]bool{}
	for _, rt := range m.routes {
		if rt.namespaced {
			namespaced[rt.group+"/"+rt.resource] = true
		}
	}
	for _, rule := range m.servedRules() {
		res, _, _ := strings.Cut(rule.Resources[0], "/")
		if namespaced[rule.APIGroups[0]+"/"+res] {
			out.ResourceRules = append(out.ResourceRules, rule)
		}
	}
	return out
}
