package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestGetWatchPrintsTheListThenEachChange(t *testing.T) {
	pod := func(name, phase string) string {
		return fmt.Sprintf(`{"kind":"Pod","apiVersion":"v1","metadata":{"name":%q,"namespace":"default","creationTimestamp":%q},"spec":{"containers":[{"name":"a","image":"x"}]},"status":{"phase":%q}}`,
			name, time.Now().UTC().Format(time.RFC3339), phase)
	}
	var gotQuery url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotQuery = r.URL.Query()
		if r.URL.Path != "/api/v1/namespaces/default/pods" {
			http.NotFound(w, r)
			return
		}
		// The list arrives in one chunk, a change later in another.
		fmt.Fprintf(w, "{\"type\":\"ADDED\",\"object\":%s}\n{\"type\":\"ADDED\",\"object\":%s}\n", pod("a-long-pod-name", "Running"), pod("b", "Pending"))
		w.(http.Flusher).Flush()
		fmt.Fprintf(w, "{\"type\":\"MODIFIED\",\"object\":%s}\n", pod("b", "Running"))
	}))
	defer srv.Close()
	c := &client{base: srv.URL, http: srv.Client()}
	var out bytes.Buffer
	q := url.Values{"labelSelector": {"app=x"}}
	if err := watchResource(context.Background(), c, &out, []string{"pods"}, "", false, "", q); err != nil {
		t.Fatal(err)
	}
	if gotQuery.Get("watch") != "1" || gotQuery.Get("labelSelector") != "app=x" {
		t.Errorf("query %v", gotQuery)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "NAME ") || !strings.HasPrefix(lines[2], "b ") || !strings.Contains(lines[2], "Pending") || !strings.Contains(lines[3], "Running") {
		t.Fatalf("output:\n%s", out.String())
	}
	// The header and the first list are aligned together.
	if strings.Index(lines[0], "READY") != strings.Index(lines[1], "0/1") || strings.Index(lines[2], "0/1") != strings.Index(lines[1], "0/1") {
		t.Errorf("columns not aligned:\n%s", out.String())
	}

	out.Reset()
	if err := watchResource(context.Background(), c, &out, []string{"pods", "b"}, "", false, "name", url.Values{}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "pod/b\npod/b\n" {
		t.Errorf("-o name for one pod: %q", out.String())
	}
}
