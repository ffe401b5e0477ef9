package apiserver

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/shoal-dev/shoal/api"
)

// What a caller other than the fleet may do (no RBAC): a ServiceAccount
// everything within its own namespace, and get, list and watch of Nodes
// and Namespaces; every caller discovery, /version, the OpenAPI documents,
// the health checks and its own access reviews. Everything else is 403
// with Kubernetes' Forbidden message.

// reqAttrs are the authorization attributes of a request, as Kubernetes'
// RequestInfo reads them from the path.
type reqAttrs struct {
	resourceRequest                bool
	verb, path                     string
	group, resource, sub, ns, name string
}

// attrsOf reads r's attributes.
func attrsOf(r *http.Request) reqAttrs {
	a := reqAttrs{path: r.URL.Path}
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var rest []string
	switch {
	case len(segs) >= 3 && segs[0] == "api":
		rest = segs[2:]
	case len(segs) >= 4 && segs[0] == "apis":
		a.group, rest = segs[1], segs[3:]
	}
	if len(rest) == 0 {
		a.verb = strings.ToLower(r.Method)
		return a
	}
	a.resourceRequest = true
	if rest[0] == "namespaces" && len(rest) >= 3 {
		a.ns, rest = rest[1], rest[2:]
	}
	a.resource = rest[0]
	if len(rest) > 1 {
		a.name = rest[1]
	}
	if len(rest) > 2 {
		a.sub = rest[2]
	}
	if a.resource == "namespaces" && a.ns == "" {
		a.ns = a.name // Kubernetes' RequestInfo: a Namespace is in itself
	}
	watch := r.URL.Query().Get("watch")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case watch == "1" || watch == "true":
			a.verb = "watch"
		case a.name == "":
			a.verb = "list"
		default:
			a.verb = "get"
		}
	case http.MethodPost:
		a.verb = "create"
	case http.MethodPut:
		a.verb = "update"
	case http.MethodPatch:
		a.verb = "patch"
	case http.MethodDelete:
		a.verb = "delete"
		if a.name == "" {
			a.verb = "deletecollection"
		}
	default:
		a.verb = strings.ToLower(r.Method)
	}
	return a
}

// openNonResource are the paths every caller may read.
func openNonResource(p string) bool {
	switch {
	case p == "/api" || p == "/apis" || p == "/version" || strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/apis/"):
		return true // discovery: resource paths never reach here
	case strings.HasPrefix(p, "/openapi/"), openPath(p):
		return true
	}
	return false
}

// selfReview tells the reviews every authenticated user may ask about
// itself (Kubernetes' system:basic-user).
func selfReview(a reqAttrs) bool {
	return a.verb == "create" && a.ns == "" &&
		((a.group == "authorization.k8s.io" && (a.resource == "selfsubjectaccessreviews" || a.resource == "selfsubjectrulesreviews")) ||
			(a.group == "authentication.k8s.io" && a.resource == "selfsubjectreviews"))
}

var readVerbs = []string{"get", "list", "watch"}

// allows tells whether c may do what a asks.
func (c *caller) allows(a reqAttrs) bool {
	switch {
	case c.admin:
		return true
	case !a.resourceRequest:
		return a.verb == "get" && openNonResource(a.path)
	case selfReview(a):
		return true
	case c.saNamespace == "":
		return false
	case a.ns == c.saNamespace && a.resource != "namespaces":
		return true
	case a.group == "" && (a.resource == "nodes" || a.resource == "namespaces") && (a.sub == "" || a.sub == "status"):
		return a.verb == "*" || slices.Contains(readVerbs, a.verb)
	}
	return false
}

// admit authenticates r, applies impersonation and authorizes what is
// asked; the Status says why not (401 or 403).
func (srv *Server) admit(r *http.Request) (*caller, *api.Status) {
	c, msg := srv.authenticate(r)
	if msg != "" {
		return nil, &api.Status{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Failure",
			Reason: "Unauthorized", Code: http.StatusUnauthorized, Message: msg}
	}
	c, refused := impersonate(c, r)
	if refused != nil {
		return nil, refused
	}
	if a := attrsOf(r); !c.allows(a) {
		return nil, forbiddenStatus(c.user, a)
	}
	return c, nil
}

// forbiddenMessage is Kubernetes' (authorization's forbiddenMessage).
func forbiddenMessage(user string, a reqAttrs) string {
	if !a.resourceRequest {
		return fmt.Sprintf("User %q cannot %s path %q", user, a.verb, a.path)
	}
	res := a.resource
	if a.sub != "" {
		res += "/" + a.sub
	}
	if a.ns != "" {
		return fmt.Sprintf("User %q cannot %s resource %q in API group %q in the namespace %q", user, a.verb, res, a.group, a.ns)
	}
	return fmt.Sprintf("User %q cannot %s resource %q in API group %q at the cluster scope", user, a.verb, res, a.group)
}

// forbidden is the Status Kubernetes answers a request its authorizer
// refused: `pods is forbidden: User "..." cannot list resource "pods" in
// API group "" in the namespace "other"`.
func forbidden(resource, name, group, ns, user, verb, sub string) *api.Status {
	a := reqAttrs{resourceRequest: true, verb: verb, group: group, resource: resource, sub: sub, ns: ns, name: name}
	return forbiddenStatus(user, a)
}

func forbiddenStatus(user string, a reqAttrs) *api.Status {
	msg := "forbidden: " + forbiddenMessage(user, a)
	st := &api.Status{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Failure",
		Reason: "Forbidden", Code: http.StatusForbidden, Message: msg}
	if a.resourceRequest {
		qualified := a.resource
		if a.group != "" {
			qualified += "." + a.group
		}
		if a.name != "" {
			st.Message = fmt.Sprintf("%s %q is forbidden: %s", qualified, a.name, forbiddenMessage(user, a))
		} else {
			st.Message = fmt.Sprintf("%s is forbidden: %s", qualified, forbiddenMessage(user, a))
		}
		st.Details = &api.StatusDetails{Name: a.name, Group: a.group, Kind: a.resource}
	}
	return st
}
