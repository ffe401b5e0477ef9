package apiserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/podruntime"
)

// logRuntime writes a fixed log in chunks, as a follower receives it.
type logRuntime struct {
	PodRuntime
	chunks []string
}

func (f logRuntime) Logs(_ context.Context, _, _ string, _ podruntime.LogOptions, w io.Writer) error {
	for _, c := range f.chunks {
		if _, err := w.Write([]byte(c)); err != nil {
			return err
		}
	}
	return nil
}

type fixedRuntime struct{ rt PodRuntime }

func (f fixedRuntime) Runtime() PodRuntime { return f.rt }

func TestPodLogLimitBytesAndRefusedTimeFilters(t *testing.T) {
	srv := New(Config{Name: "n1", Log: slog.New(slog.DiscardHandler)},
		Deps{Runtime: fixedRuntime{logRuntime{chunks: []string{"one\n", "two\n", "three\n"}}}})
	get := func(query string) (int, string) {
		rec := httptest.NewRecorder()
		srv.podLog(rec, httptest.NewRequest(http.MethodGet, "/api/v1/namespaces/default/pods/p/log?"+query, nil),
			podTarget{namespace: "default", name: "p", uid: "u", container: "c"})
		return rec.Code, rec.Body.String()
	}
	for query, want := range map[string]string{"": "one\ntwo\nthree\n", "limitBytes=6": "one\ntw", "limitBytes=4": "one\n", "limitBytes=100": "one\ntwo\nthree\n"} {
		if code, body := get(query); code != http.StatusOK || body != want {
			t.Errorf("?%s: %d %q, want %q", query, code, body, want)
		}
	}
	for _, query := range []string{"limitBytes=0", "limitBytes=x", "timestamps=true", "sinceSeconds=10", "sinceTime=2026-01-01T00:00:00Z"} {
		param, _, _ := strings.Cut(query, "=")
		if code, body := get(query); code != http.StatusUnprocessableEntity || !strings.Contains(body, param) {
			t.Errorf("?%s: %d %s, want 422 naming %s", query, code, body, param)
		}
	}
}
