package apiserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/podruntime"
)

// logRuntime writes a fixed log in chunks, as a follower receives it, and
// keeps the options it was asked with; err, when set, is its answer.
type logRuntime struct {
	PodRuntime
	chunks []string
	got    *podruntime.LogOptions
	err    error
}

func (f logRuntime) Logs(_ context.Context, _, _ string, opts podruntime.LogOptions, w io.Writer) error {
	if f.got != nil {
		*f.got = opts
	}
	if f.err != nil {
		return f.err
	}
	for _, c := range f.chunks {
		if _, err := w.Write([]byte(c)); err != nil {
			return err
		}
	}
	return nil
}

type fixedRuntime struct{ rt PodRuntime }

func (f fixedRuntime) Runtime() PodRuntime { return f.rt }

func TestPodLogLimitBytesAndBadOptions(t *testing.T) {
	var got podruntime.LogOptions
	srv := New(Config{Name: "n1", Log: slog.New(slog.DiscardHandler)},
		Deps{Runtime: fixedRuntime{logRuntime{chunks: []string{"one\n", "two\n", "three\n"}, got: &got}}})
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
	for _, query := range []string{"limitBytes=0", "limitBytes=x", "tailLines=-1", "sinceSeconds=0", "sinceSeconds=x",
		"sinceTime=yesterday", "sinceSeconds=10&sinceTime=2026-01-01T00:00:00Z"} {
		param, _, _ := strings.Cut(query, "=")
		if code, body := get(query); code != http.StatusUnprocessableEntity || !strings.Contains(body, param) {
			t.Errorf("?%s: %d %s, want 422 naming %s", query, code, body, param)
		}
	}
}

func TestPodLogPassesTimeOptionsToTheRuntime(t *testing.T) {
	var got podruntime.LogOptions
	srv := New(Config{Name: "n1", Log: slog.New(slog.DiscardHandler)},
		Deps{Runtime: fixedRuntime{logRuntime{chunks: []string{"x\n"}, got: &got}}})
	get := func(query string) int {
		rec := httptest.NewRecorder()
		srv.podLog(rec, httptest.NewRequest(http.MethodGet, "/api/v1/namespaces/default/pods/p/log?"+query, nil),
			podTarget{namespace: "default", name: "p", uid: "u", container: "c"})
		return rec.Code
	}
	if code := get("timestamps=true&sinceTime=2026-01-02T03:04:05Z&tailLines=3"); code != http.StatusOK {
		t.Fatalf("code %d", code)
	}
	want := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if !got.Timestamps || !got.SinceTime.Equal(want) || got.TailLines != 3 || got.Follow {
		t.Errorf("options %+v, want timestamps, since %s, tail 3", got, want)
	}
	before := time.Now()
	if code := get("sinceSeconds=60"); code != http.StatusOK {
		t.Fatalf("code %d", code)
	}
	after := time.Now()
	if got.SinceTime.Before(before.Add(-time.Minute)) || got.SinceTime.After(after.Add(-time.Minute)) || got.Timestamps || got.TailLines != -1 {
		t.Errorf("sinceSeconds=60 gave %+v, want a minute before the request", got)
	}
}

func TestPodLogWithoutTimesIsABadRequestThatSaysWhy(t *testing.T) {
	srv := New(Config{Name: "n1", Log: slog.New(slog.DiscardHandler)},
		Deps{Runtime: fixedRuntime{logRuntime{err: fmt.Errorf("logs of c: %w", podruntime.ErrNoTimes)}}})
	rec := httptest.NewRecorder()
	srv.podLog(rec, httptest.NewRequest(http.MethodGet, "/api/v1/namespaces/default/pods/p/log?timestamps=true", nil),
		podTarget{namespace: "default", name: "p", uid: "u", container: "c"})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "started before the agent stored") {
		t.Errorf("%d %s, want 400 saying the container started before times were stored", rec.Code, rec.Body.String())
	}
}
