package apiserver

import (
	"net/http"
	"sort"
	"strings"
	"sync"

	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/shoal-dev/shoal/api"
)

// kubeMux is the API's ServeMux. It remembers which Kubernetes resources
// and verbs its routes serve, so that discovery and the OpenAPI documents
// list exactly those, whoever added the route, and it gives every GET of a
// resource Table output and ?watch streams.
type kubeMux struct {
	*http.ServeMux
	srv    *Server
	routes []kubeRoute
	// paths and handlers of the routes, by the same index, for
	// addPatchRoutes.
	paths    []string
	handlers []func(http.ResponseWriter, *http.Request)
	// schemasV2 and schemasV3 are the served kinds' OpenAPI schemas,
	// built at the first request for them (kube_openapi.go).
	schemasV2, schemasV3 func() map[string]spec.Schema
	// openAPIV2Proto is the v2 document in protobuf, encoded once.
	openAPIV2Proto func() ([]byte, error)
}

// kubeRoute is one route of the Kubernetes API, read from its pattern.
type kubeRoute struct {
	method     string
	group      string // "" for the core group under /api
	version    string
	resource   string
	sub        string // subresource: status, log, exec, ...
	namespaced bool   // under /namespaces/{ns}/
	named      bool   // names one object: .../{name}
}

func (srv *Server) newKubeMux() *kubeMux {
	m := &kubeMux{ServeMux: http.NewServeMux(), srv: srv,
		schemasV2: sync.OnceValue(func() map[string]spec.Schema { return api.OpenAPISchemas(api.OpenAPIV2RefPrefix) }),
		schemasV3: sync.OnceValue(func() map[string]spec.Schema { return api.OpenAPISchemas("#/components/schemas/") }),
	}
	m.openAPIV2Proto = sync.OnceValues(func() ([]byte, error) { return openAPIV2ProtoOf(m.openAPIV2Doc()) })
	m.kubeDiscoveryRoutes()
	m.authReviewRoutes() // auth_reviews.go
	m.metricsRoutes()    // metrics_api.go
	return m
}

// HandleFunc registers h like http.ServeMux does. A route of a resource is
// recorded for discovery, and its GETs learn Table output and ?watch.
func (m *kubeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	if rt, ok := parseKubeRoute(pattern); ok {
		m.routes = append(m.routes, rt)
		_, path, _ := strings.Cut(pattern, " ")
		m.paths = append(m.paths, path)
		m.handlers = append(m.handlers, h)
		if rt.method == http.MethodGet && rt.sub == "" {
			h = m.srv.negotiate(rt, h)
		}
		if rt.method != http.MethodGet {
			h = m.srv.dryRunnable(h) // dryrun.go
		}
		h = m.srv.protobufWire(rt, h) // kube_protobuf.go
	}
	m.ServeMux.HandleFunc(pattern, h)
}

// handleUnlisted serves a route that discovery and OpenAPI must not list:
// the refused writes of a read-only kind (refuseRoutes).
func (m *kubeMux) handleUnlisted(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.ServeMux.HandleFunc(pattern, h)
}

// Handle is HandleFunc for an http.Handler, so routes registered either
// way are recorded.
func (m *kubeMux) Handle(pattern string, h http.Handler) { m.HandleFunc(pattern, h.ServeHTTP) }

// parseKubeRoute reads "GET /api/v1/namespaces/{ns}/pods/{name}/log" and
// the like. Discovery's own paths and anything else are not resource routes.
func parseKubeRoute(pattern string) (kubeRoute, bool) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return kubeRoute{}, false
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var rt kubeRoute
	rt.method = method
	switch {
	case len(segs) >= 3 && segs[0] == "api":
		rt.version, segs = segs[1], segs[2:]
	case len(segs) >= 4 && segs[0] == "apis":
		rt.group, rt.version, segs = segs[1], segs[2], segs[3:]
	default:
		return kubeRoute{}, false
	}
	if len(segs) >= 3 && segs[0] == "namespaces" && isWildcard(segs[1]) {
		rt.namespaced, segs = true, segs[2:]
	}
	if len(segs) == 0 || isWildcard(segs[0]) {
		return kubeRoute{}, false
	}
	rt.resource, segs = segs[0], segs[1:]
	if len(segs) > 0 {
		if !isWildcard(segs[0]) {
			return kubeRoute{}, false
		}
		rt.named, segs = true, segs[1:]
	}
	if len(segs) == 1 && !isWildcard(segs[0]) {
		rt.sub, segs = segs[0], nil
	}
	if len(segs) > 0 {
		return kubeRoute{}, false
	}
	return rt, true
}

func isWildcard(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

// kubeResource is what discovery says about one resource or subresource.
type kubeResource struct {
	name       string // pods, pods/log
	namespaced bool
	kind       string
	group      string // of the kind, when it differs from the route's (scale)
	version    string
	verbs      []string
	info       resourceInfo
}

// resources groups the recorded routes of one group/version into the
// resources discovery lists, with the verbs their routes serve.
func (m *kubeMux) resources(group, version string) []kubeResource {
	byName := map[string]*kubeResource{}
	verbs := map[string]map[string]bool{}
	for _, rt := range m.routes {
		if rt.group != group || rt.version != version {
			continue
		}
		name := rt.resource
		if rt.sub != "" {
			name += "/" + rt.sub
		}
		r, ok := byName[name]
		if !ok {
			info := routeInfo(rt)
			r = &kubeResource{name: name, kind: info.kind, info: info}
			if rt.sub != "" {
				r.info = resourceInfo{}
				r.kind, r.group, r.version = subresourceKind(info.kind, rt.sub)
			}
			byName[name] = r
			verbs[name] = map[string]bool{}
		}
		r.namespaced = r.namespaced || rt.namespaced
		for _, v := range routeVerbs(rt) {
			verbs[name][v] = true
		}
	}
	out := make([]kubeResource, 0, len(byName))
	for name, r := range byName {
		for _, v := range kubeVerbs() {
			if verbs[name][v] {
				r.verbs = append(r.verbs, v)
			}
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// groupVersions lists the group/versions the routes serve, in the order
// discovery lists them.
func (m *kubeMux) groupVersions() [][2]string {
	seen := map[[2]string]bool{}
	var out [][2]string
	for _, rt := range m.routes {
		gv := [2]string{rt.group, rt.version}
		if !seen[gv] {
			seen[gv] = true
			out = append(out, gv)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i][0] != out[j][0] {
			return out[i][0] < out[j][0]
		}
		return out[i][1] < out[j][1]
	})
	return out
}

// kubeVerbs is the order discovery lists verbs in, as Kubernetes does.
func kubeVerbs() []string {
	return []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
}

// routeVerbs are the Kubernetes verbs one route serves. Every list
// answers ?watch, through negotiate.
func routeVerbs(rt kubeRoute) []string {
	switch {
	case rt.sub != "" && rt.method == http.MethodGet:
		return []string{"get"}
	case rt.sub != "" && rt.method == http.MethodPost:
		return []string{"create"}
	case rt.method == http.MethodGet && rt.named:
		return []string{"get"}
	case rt.method == http.MethodGet:
		return []string{"list", "watch"}
	case rt.method == http.MethodPost:
		return []string{"create"}
	case rt.method == http.MethodPut:
		return []string{"update"}
	case rt.method == http.MethodPatch:
		return []string{"patch"}
	case rt.method == http.MethodDelete && rt.named:
		return []string{"delete"}
	case rt.method == http.MethodDelete:
		return []string{"deletecollection"}
	}
	return nil
}

// resourceInfo is the part of discovery a route's pattern cannot tell.
type resourceInfo struct {
	kind       string
	singular   string
	shortNames []string
	categories []string
}

// routeInfo is resourceInfoFor, except for the resources of the metrics
// API, whose names repeat those of the kinds they measure.
func routeInfo(rt kubeRoute) resourceInfo {
	if rt.group == "metrics.k8s.io" {
		switch rt.resource {
		case "pods":
			return resourceInfo{"PodMetrics", "", nil, nil}
		case "nodes":
			return resourceInfo{"NodeMetrics", "", nil, nil}
		}
	}
	return resourceInfoFor(rt.resource)
}

// resourceInfoFor knows the resources shoal serves or may serve; others
// get a kind guessed from their name.
func resourceInfoFor(resource string) resourceInfo {
	for _, res := range resources() { // the generic kinds say it themselves
		if m := res.meta(); m.plural == resource {
			return resourceInfo{m.kind, strings.ToLower(m.kind), m.shortNames, m.categories}
		}
	}
	switch resource {
	case "namespaces":
		return resourceInfo{"Namespace", "namespace", []string{"ns"}, nil}
	case "services":
		return resourceInfo{"Service", "service", []string{"svc"}, []string{"all"}}
	case "deployments":
		return resourceInfo{"Deployment", "deployment", []string{"deploy"}, []string{"all"}}
	case "selfsubjectaccessreviews":
		return resourceInfo{"SelfSubjectAccessReview", "selfsubjectaccessreview", nil, nil}
	case "selfsubjectrulesreviews":
		return resourceInfo{"SelfSubjectRulesReview", "selfsubjectrulesreview", nil, nil}
	case "selfsubjectreviews":
		return resourceInfo{"SelfSubjectReview", "selfsubjectreview", nil, nil}
	}
	singular := strings.TrimSuffix(resource, "s")
	if singular == "" {
		return resourceInfo{singular: resource, kind: resource}
	}
	return resourceInfo{kind: strings.ToUpper(singular[:1]) + singular[1:], singular: singular}
}

// subresourceKind is the kind a subresource takes and returns, as
// Kubernetes' discovery reports it.
func subresourceKind(parent, sub string) (kind, group, version string) {
	switch sub {
	case "scale":
		return "Scale", "autoscaling", "v1"
	case "exec":
		return "PodExecOptions", "", ""
	case "attach":
		return "PodAttachOptions", "", ""
	case "portforward":
		return "PodPortForwardOptions", "", ""
	case "binding":
		return "Binding", "", ""
	case "eviction":
		return api.KindEviction, api.GroupPolicy, "v1"
	}
	return parent, "", ""
}
