package apiserver

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

const patchBase = `{"metadata":{"name":"web","labels":{"app":"web","tier":"front"}},
 "spec":{"containers":[
  {"name":"app","image":"a:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
  {"name":"log","image":"l:1"}]}}`

func TestPatchJSONAppliesEachPatchType(t *testing.T) {
	tests := []struct {
		name, contentType, patch, want string
	}{
		{
			name:        "merge patch sets and removes labels",
			contentType: mergePatchType,
			patch:       `{"metadata":{"labels":{"tier":null,"env":"prod"}}}`,
			want: `{"metadata":{"name":"web","labels":{"app":"web","env":"prod"}},"spec":{"containers":[
			  {"name":"app","image":"a:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},{"name":"log","image":"l:1"}]}}`,
		},
		{
			name:        "merge patch replaces lists whole",
			contentType: mergePatchType,
			patch:       `{"spec":{"containers":[{"name":"log","image":"l:2"}]}}`,
			want:        `{"metadata":{"name":"web","labels":{"app":"web","tier":"front"}},"spec":{"containers":[{"name":"log","image":"l:2"}]}}`,
		},
		{
			name:        "strategic merge patch merges containers by name and keeps the others",
			contentType: strategicPatchType + "; charset=utf-8",
			patch:       `{"spec":{"$setElementOrder/containers":[{"name":"app"},{"name":"log"}],"containers":[{"name":"log","image":"l:2"}]}}`,
			want: `{"metadata":{"name":"web","labels":{"app":"web","tier":"front"}},"spec":{"containers":[
			  {"name":"app","image":"a:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},{"name":"log","image":"l:2"}]}}`,
		},
		{
			name:        "strategic merge patch merges env by name inside a container and deletes by directive",
			contentType: strategicPatchType,
			patch:       `{"spec":{"containers":[{"name":"app","env":[{"name":"B","value":"3"},{"name":"A","$patch":"delete"}]}]}}`,
			want: `{"metadata":{"name":"web","labels":{"app":"web","tier":"front"}},"spec":{"containers":[
			  {"name":"app","image":"a:1","env":[{"name":"B","value":"3"}]},{"name":"log","image":"l:1"}]}}`,
		},
		{
			name:        "strategic merge patch adds a container at the end",
			contentType: strategicPatchType,
			patch:       `{"spec":{"$setElementOrder/containers":[{"name":"app"},{"name":"log"},{"name":"side"}],"containers":[{"name":"side","image":"s:1"}]}}`,
			want: `{"metadata":{"name":"web","labels":{"app":"web","tier":"front"}},"spec":{"containers":[
			  {"name":"app","image":"a:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},{"name":"log","image":"l:1"},{"name":"side","image":"s:1"}]}}`,
		},
		{
			// Without $setElementOrder (kubectl apply always sends it) the
			// Kubernetes API server puts what only the patch has first.
			name:        "strategic merge patch without an order puts a new container first, as Kubernetes does",
			contentType: strategicPatchType,
			patch:       `{"spec":{"containers":[{"name":"side","image":"s:1"}]}}`,
			want: `{"metadata":{"name":"web","labels":{"app":"web","tier":"front"}},"spec":{"containers":[
			  {"name":"side","image":"s:1"},{"name":"app","image":"a:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},{"name":"log","image":"l:1"}]}}`,
		},
		{
			// The merge keys come from the types' patchMergeKey tags, not a
			// table: ports merge by containerPort.
			name:        "strategic merge patch merges ports by containerPort",
			contentType: strategicPatchType,
			patch:       `{"spec":{"containers":[{"name":"log","ports":[{"containerPort":80,"name":"http"}]}]}}`,
			want: `{"metadata":{"name":"web","labels":{"app":"web","tier":"front"}},"spec":{"containers":[
			  {"name":"app","image":"a:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},{"name":"log","image":"l:1","ports":[{"containerPort":80,"name":"http"}]}]}}`,
		},
		{
			name:        "JSON patch replaces, adds and removes by pointer",
			contentType: jsonPatchType,
			patch: `[{"op":"replace","path":"/spec/containers/1/image","value":"l:3"},
			         {"op":"add","path":"/metadata/labels/a~1b","value":"x"},
			         {"op":"remove","path":"/spec/containers/0/env/0"},
			         {"op":"test","path":"/metadata/name","value":"web"}]`,
			want: `{"metadata":{"name":"web","labels":{"app":"web","tier":"front","a/b":"x"}},"spec":{"containers":[
			  {"name":"app","image":"a:1","env":[{"name":"B","value":"2"}]},{"name":"log","image":"l:3"}]}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := patchJSON(tt.contentType, &api.Pod{}, []byte(patchBase), []byte(tt.patch))
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.want), &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("patched:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestPatchJSONRefusesWhatItCannotApply(t *testing.T) {
	tests := []struct {
		name, contentType, patch, reason string
	}{
		{"server-side apply", applyPatchType, `{}`, "UnsupportedMediaType"},
		{"unknown patch type", "text/plain", `{}`, "UnsupportedMediaType"},
		{"failed JSON patch test", jsonPatchType, `[{"op":"test","path":"/metadata/name","value":"db"}]`, "BadRequest"},
		{"JSON patch on a missing member", jsonPatchType, `[{"op":"replace","path":"/spec/nope","value":1}]`, "BadRequest"},
		{"malformed merge patch", mergePatchType, `{"metadata":`, "BadRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := patchJSON(tt.contentType, &api.Pod{}, []byte(patchBase), []byte(tt.patch))
			var bad *badRequest
			if !errors.As(err, &bad) || bad.reason != tt.reason {
				t.Fatalf("err = %v, want a %s", err, tt.reason)
			}
		})
	}
}
