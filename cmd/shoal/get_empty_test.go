package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// An empty list keeps the server's shape: "items": [] in json and yaml,
// for every listed kind and with -A, never null.
func TestGetEmptyListPrintsEmptyItems(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := map[string]string{
			"/api/v1/namespaces/default/pods": "PodList",
			"/api/v1/pods":                    "PodList",
			"/api/v1/nodes":                   "NodeList",
			"/api/v1/namespaces/default/replicationcontrollers": "ReplicationControllerList",
			"/apis/apps/v1/namespaces/default/replicasets":      "ReplicaSetList",
			"/api/v1/namespaces/default/secrets":                "SecretList",
		}[r.URL.Path]
		if kind == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"kind":"` + kind + `","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[]}`))
	}))
	defer srv.Close()
	for _, args := range [][]string{{"pods"}, {"pods", "-A"}, {"nodes"}, {"rc"}, {"rs"}, {"secrets"}} {
		for _, format := range []string{"json", "yaml"} {
			name := strings.Join(args, " ") + " -o " + format
			root := newRootCmd()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetArgs(append(append([]string{"--addr", srv.URL, "get"}, args...), "-o", format))
			if err := root.Execute(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var doc map[string]any
			var err error
			if format == "json" {
				err = json.Unmarshal(out.Bytes(), &doc)
			} else {
				err = yaml.Unmarshal(out.Bytes(), &doc)
			}
			if err != nil {
				t.Fatalf("%s: %v\n%s", name, err, out.String())
			}
			items, ok := doc["items"].([]any)
			if !ok || len(items) != 0 {
				t.Errorf("%s: items = %#v, want an empty list\n%s", name, doc["items"], out.String())
			}
		}
	}
}
