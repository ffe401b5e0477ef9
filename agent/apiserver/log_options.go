package apiserver

import (
	"net/url"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/podruntime"
)

// logOptions reads the query of GET .../pods/{name}/log as the kubelet
// does (PodLogOptions): follow, previous, tailLines, timestamps,
// sinceSeconds or sinceTime. limitBytes is the caller's: it cuts what is
// written, times included. now is when sinceSeconds counts back from.
func logOptions(q url.Values, now time.Time) (podruntime.LogOptions, error) {
	opts := podruntime.LogOptions{Follow: boolParam(q.Get("follow")), Previous: boolParam(q.Get("previous")),
		Timestamps: boolParam(q.Get("timestamps")), TailLines: -1}
	if s := q.Get("tailLines"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return opts, invalid(&api.FieldError{Path: "tailLines", Value: s, Detail: "must be a non-negative integer"})
		}
		opts.TailLines = n
	}
	since, sinceTime := q.Get("sinceSeconds"), q.Get("sinceTime")
	if since != "" && sinceTime != "" {
		return opts, invalid(&api.FieldError{Path: "sinceSeconds", Value: since, Detail: "at most one of `sinceTime` or `sinceSeconds` may be specified"})
	}
	if since != "" {
		n, err := strconv.ParseInt(since, 10, 64)
		if err != nil || n <= 0 {
			return opts, invalid(&api.FieldError{Path: "sinceSeconds", Value: since, Detail: "must be a positive integer (seconds)"})
		}
		opts.SinceTime = now.Add(-time.Duration(n) * time.Second)
	}
	if sinceTime != "" {
		t, err := time.Parse(time.RFC3339, sinceTime)
		if err != nil {
			return opts, invalid(&api.FieldError{Path: "sinceTime", Value: sinceTime, Detail: "must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z"})
		}
		opts.SinceTime = t
	}
	return opts, nil
}
