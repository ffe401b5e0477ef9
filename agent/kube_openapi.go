package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
)

// kubectl create and apply check, through OpenAPI v3, whether the server
// validates fields itself (the fieldValidation query parameter of the
// kind's PATCH). When it cannot tell, it validates on the client against
// OpenAPI v2, which shoal does not serve, and fails. These documents say
// only that: every kind shoal serves has a PATCH that takes
// fieldValidation (also kinds without a PATCH route, so that creating them
// is not blocked by client-side validation). shoal's decoding is strict whatever the parameter says.
//
// The PATCH advertises merge and JSON patches but not strategic merge, so
// that kubectl apply computes its strategic merge patch from its own
// built-in types instead of looking for schemas these documents lack.

func (m *kubeMux) openAPIRoot(w http.ResponseWriter, r *http.Request) {
	paths := map[string]map[string]string{}
	for _, gv := range m.groupVersions() {
		key := "api/" + gv[1]
		if gv[0] != "" {
			key = "apis/" + gv[0] + "/" + gv[1]
		}
		doc, _ := json.Marshal(m.openAPIDoc(gv[0], gv[1]))
		sum := sha256.Sum256(doc)
		paths[key] = map[string]string{"serverRelativeURL": "/openapi/v3/" + key + "?hash=" + strings.ToUpper(hex.EncodeToString(sum[:16]))}
	}
	writeJSON(w, http.StatusOK, map[string]any{"paths": paths})
}

func (m *kubeMux) openAPIGroupVersion(w http.ResponseWriter, r *http.Request) {
	group, version := r.PathValue("group"), r.PathValue("version")
	if len(m.resources(group, version)) == 0 {
		writeError(w, m.a.log, notFound("openapi", "", strings.TrimPrefix(group+"/"+version, "/")))
		return
	}
	writeJSON(w, http.StatusOK, m.openAPIDoc(group, version))
}

func (m *kubeMux) openAPIDoc(group, version string) map[string]any {
	paths := map[string]any{}
	for _, rt := range m.routes {
		if rt.group != group || rt.version != version || rt.sub != "" || !rt.named {
			continue
		}
		info := resourceInfoFor(rt.resource)
		prefix := "/api/" + version
		if group != "" {
			prefix = "/apis/" + group + "/" + version
		}
		path := prefix + "/" + rt.resource + "/{name}"
		if rt.namespaced {
			path = prefix + "/namespaces/{namespace}/" + rt.resource + "/{name}"
		}
		paths[path] = map[string]any{
			"patch": map[string]any{
				"operationId":                     "patch" + info.kind,
				"x-kubernetes-group-version-kind": map[string]string{"group": group, "version": version, "kind": info.kind},
				"x-kubernetes-action":             "patch",
				"parameters": []map[string]any{
					{"name": "fieldValidation", "in": "query", "schema": map[string]string{"type": "string"}},
					{"name": "dryRun", "in": "query", "schema": map[string]string{"type": "string"}},
				},
				"requestBody": map[string]any{
					"content": map[string]any{
						"application/merge-patch+json": map[string]any{"schema": map[string]string{"type": "object"}},
						"application/json-patch+json":  map[string]any{"schema": map[string]string{"type": "object"}},
					},
					"required": true,
				},
				"responses": map[string]any{"200": map[string]any{"description": "OK"}},
			},
		}
	}
	return map[string]any{
		"openapi":    "3.0.0",
		"info":       map[string]string{"title": "shoal", "version": Version},
		"paths":      paths,
		"components": map[string]any{"schemas": map[string]any{}},
	}
}
