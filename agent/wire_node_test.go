package agent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A server that takes the assignments query and then goes silent (cut off
// by a partition: no answer, no RST) must not hold the node reconciler for
// the HTTP client's whole timeout: fetch gives up after the query's wait
// and a little slack, and the reconciler asks again, elsewhere.
func TestFetchGivesUpOnASilentServer(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	c := nodeAPIClient{name: "n1", addr: strings.TrimPrefix(srv.URL, "http://"), http: &http.Client{Timeout: 10 * time.Minute}}
	done := make(chan error, 1)
	go func() {
		_, err := c.Assignments(context.Background(), 0, 100*time.Millisecond)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("fetch from a silent server returned no error")
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("fetch still waiting on a silent server after 2 minutes: the reconciler would hang")
	}
}
