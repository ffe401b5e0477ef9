package apiserver

import (
	"encoding/json"
	"net/http"

	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/yaml"
)

// generateName fills metadata.name of a manifest POSTed without one from
// its metadata.generateName and a random suffix, as the Kubernetes API
// server does (kubectl create -f with generateName). Any other body is
// returned as it came, for the strict decoder to judge.
func generateName(r *http.Request, body []byte) []byte {
	if r.Method != http.MethodPost {
		return body
	}
	js, err := yaml.YAMLToJSON(body)
	if err != nil {
		return body
	}
	var doc map[string]any
	if json.Unmarshal(js, &doc) != nil {
		return body
	}
	md, ok := doc["metadata"].(map[string]any)
	if !ok {
		return body
	}
	prefix, _ := md["generateName"].(string)
	if name, _ := md["name"].(string); name != "" || prefix == "" {
		return body
	}
	md["name"] = prefix + utilrand.String(5)
	out, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return out
}
