package apiserver

import (
	"net/http"
	"strings"
)

// The discovery documents kubectl reads before anything else: which
// group/versions exist and which resources and verbs each serves. They are
// built from the routes the mux recorded, so they never list what shoal
// does not serve.

// aggregatedDiscoveryType is the content type of the one-request discovery
// kubectl 1.32 asks for first; plain JSON answers make it fall back to one
// request per group/version.
const aggregatedDiscoveryType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

func (m *kubeMux) kubeDiscoveryRoutes() {
	m.ServeMux.HandleFunc("GET /version", m.version)
	m.ServeMux.HandleFunc("GET /api", m.apiVersions)
	m.ServeMux.HandleFunc("GET /apis", m.apiGroups)
	m.ServeMux.HandleFunc("GET /api/v1", m.resourceList)
	m.ServeMux.HandleFunc("GET /apis/{group}/{version}", m.resourceList)
	m.ServeMux.HandleFunc("GET /openapi/v2", m.openAPIV2)
	m.ServeMux.HandleFunc("GET /openapi/v3", m.openAPIRoot)
	m.ServeMux.HandleFunc("GET /openapi/v3/api/{version}", m.openAPIGroupVersion)
	m.ServeMux.HandleFunc("GET /openapi/v3/apis/{group}/{version}", m.openAPIGroupVersion)
}

func (m *kubeMux) version(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{
		"major": "1", "minor": "32",
		"gitVersion":   gitVersion(m.srv.cfg.Version),
		"gitCommit":    "",
		"gitTreeState": "clean",
		"goVersion":    "",
		"compiler":     "gc",
		"platform":     "linux/amd64",
	})
}

type groupVersionForDiscovery struct {
	GroupVersion string `json:"groupVersion"`
	Version      string `json:"version"`
}

type apiGroup struct {
	Name             string                     `json:"name"`
	Versions         []groupVersionForDiscovery `json:"versions"`
	PreferredVersion groupVersionForDiscovery   `json:"preferredVersion"`
}

func (m *kubeMux) apiVersions(w http.ResponseWriter, r *http.Request) {
	if wantsAggregated(r) {
		m.writeAggregated(w, true)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"kind":     "APIVersions",
		"versions": []string{"v1"},
		"serverAddressByClientCIDRs": []map[string]string{
			{"clientCIDR": "0.0.0.0/0", "serverAddress": r.Host},
		},
	})
}

func (m *kubeMux) apiGroups(w http.ResponseWriter, r *http.Request) {
	if wantsAggregated(r) {
		m.writeAggregated(w, false)
		return
	}
	groups := []apiGroup{}
	for _, gv := range m.groupVersions() {
		if gv[0] == "" {
			continue
		}
		v := groupVersionForDiscovery{GroupVersion: gv[0] + "/" + gv[1], Version: gv[1]}
		if n := len(groups); n > 0 && groups[n-1].Name == gv[0] {
			groups[n-1].Versions = append(groups[n-1].Versions, v)
			continue
		}
		groups = append(groups, apiGroup{Name: gv[0], Versions: []groupVersionForDiscovery{v}, PreferredVersion: v})
	}
	writeJSON(w, http.StatusOK, map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

type apiResource struct {
	Name         string   `json:"name"`
	SingularName string   `json:"singularName"`
	Namespaced   bool     `json:"namespaced"`
	Group        string   `json:"group,omitempty"`
	Version      string   `json:"version,omitempty"`
	Kind         string   `json:"kind"`
	Verbs        []string `json:"verbs"`
	ShortNames   []string `json:"shortNames,omitempty"`
	Categories   []string `json:"categories,omitempty"`
}

func (m *kubeMux) resourceList(w http.ResponseWriter, r *http.Request) {
	group, version := r.PathValue("group"), r.PathValue("version")
	if version == "" {
		version = "v1"
	}
	res := m.resources(group, version)
	if len(res) == 0 {
		writeError(w, m.srv.log, notFound("groupversion", "", strings.TrimPrefix(group+"/"+version, "/")))
		return
	}
	gv := version
	if group != "" {
		gv = group + "/" + version
	}
	list := make([]apiResource, 0, len(res))
	for _, kr := range res {
		list = append(list, apiResource{
			Name: kr.name, SingularName: kr.info.singular, Namespaced: kr.namespaced,
			Group: kr.group, Version: kr.version, Kind: kr.kind, Verbs: kr.verbs,
			ShortNames: kr.info.shortNames, Categories: kr.info.categories,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": list})
}

// wantsAggregated is true when the client accepts aggregated discovery v2.
func wantsAggregated(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		p := strings.ReplaceAll(part, " ", "")
		if strings.Contains(p, "g=apidiscovery.k8s.io") && strings.Contains(p, "v=v2;") && strings.Contains(p, "as=APIGroupDiscoveryList") {
			return true
		}
		if strings.Contains(p, "g=apidiscovery.k8s.io") && strings.HasSuffix(p, "v=v2") && strings.Contains(p, "as=APIGroupDiscoveryList") {
			return true
		}
	}
	return false
}

type groupVersionKind struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
}

type discoverySubresource struct {
	Subresource  string           `json:"subresource"`
	ResponseKind groupVersionKind `json:"responseKind"`
	Verbs        []string         `json:"verbs"`
}

type discoveryResource struct {
	Resource         string                 `json:"resource"`
	ResponseKind     groupVersionKind       `json:"responseKind"`
	Scope            string                 `json:"scope"`
	SingularResource string                 `json:"singularResource"`
	Verbs            []string               `json:"verbs"`
	ShortNames       []string               `json:"shortNames,omitempty"`
	Categories       []string               `json:"categories,omitempty"`
	Subresources     []discoverySubresource `json:"subresources,omitempty"`
}

type discoveryVersion struct {
	Version   string              `json:"version"`
	Resources []discoveryResource `json:"resources"`
	Freshness string              `json:"freshness"`
}

type discoveryGroup struct {
	Metadata map[string]string  `json:"metadata"`
	Versions []discoveryVersion `json:"versions"`
}

// writeAggregated answers /api (core) or /apis (named groups) with every
// group, version and resource in one document.
func (m *kubeMux) writeAggregated(w http.ResponseWriter, core bool) {
	items := []discoveryGroup{}
	for _, gv := range m.groupVersions() {
		if (gv[0] == "") != core {
			continue
		}
		ver := discoveryVersion{Version: gv[1], Freshness: "Current", Resources: []discoveryResource{}}
		byName := map[string]int{}
		for _, kr := range m.resources(gv[0], gv[1]) {
			parent, sub, isSub := strings.Cut(kr.name, "/")
			if !isSub {
				scope := "Cluster"
				if kr.namespaced {
					scope = "Namespaced"
				}
				byName[parent] = len(ver.Resources)
				ver.Resources = append(ver.Resources, discoveryResource{
					Resource: kr.name, ResponseKind: groupVersionKind{gv[0], gv[1], kr.kind}, Scope: scope,
					SingularResource: kr.info.singular, Verbs: kr.verbs, ShortNames: kr.info.shortNames, Categories: kr.info.categories,
				})
				continue
			}
			i, ok := byName[parent]
			if !ok {
				continue
			}
			g, v := kr.group, kr.version
			if v == "" {
				g, v = gv[0], gv[1]
			}
			ver.Resources[i].Subresources = append(ver.Resources[i].Subresources,
				discoverySubresource{Subresource: sub, ResponseKind: groupVersionKind{g, v, kr.kind}, Verbs: kr.verbs})
		}
		md := map[string]string{}
		if gv[0] != "" {
			md["name"] = gv[0]
		}
		if n := len(items); n > 0 && items[n-1].Metadata["name"] == gv[0] {
			items[n-1].Versions = append(items[n-1].Versions, ver)
			continue
		}
		items = append(items, discoveryGroup{Metadata: md, Versions: []discoveryVersion{ver}})
	}
	w.Header().Set("Content-Type", aggregatedDiscoveryType)
	w.WriteHeader(http.StatusOK)
	writeBody(w, map[string]any{"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": map[string]string{}, "items": items})
}

// gitVersion is the Kubernetes version shoal speaks, with shoal's own as
// semver build metadata (kubectl version parses it): only [0-9A-Za-z-.].
func gitVersion(shoal string) string {
	meta := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '.' {
			return r
		}
		return '-'
	}, shoal)
	if meta == "" {
		return "v1.32.0"
	}
	return "v1.32.0+" + meta
}
