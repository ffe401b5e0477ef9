package apiserver

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func TestPodFieldSelectorMatchesNameNodeAndPhase(t *testing.T) {
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default"}, Spec: api.PodSpec{NodeName: "n1"}, Status: api.PodStatus{Phase: "Running"}}
	tests := []struct {
		selector string
		match    bool
		invalid  bool
	}{
		{"", true, false},
		{"metadata.name=web", true, false},
		{"metadata.name==web", true, false},
		{"metadata.name=db", false, false},
		{"metadata.name!=db,spec.nodeName=n1", true, false},
		{"spec.nodeName=n1,status.phase!=Running", false, false},
		{"metadata.namespace=default,metadata.name=web", true, false},
		{"spec.hostname=x", false, true},
		{"metadata.name", false, true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/api/v1/pods?fieldSelector="+url.QueryEscape(tt.selector), nil)
		match, err := fieldFilter(r, podKind{}) // the pod list's
		if tt.invalid {
			var bad *badRequest
			if err == nil || !asBadRequest(err, &bad) || bad.code != 400 {
				t.Errorf("%q: err = %v, want a BadRequest", tt.selector, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.selector, err)
			continue
		}
		if got := match(pod); got != tt.match {
			t.Errorf("%q matches = %v, want %v", tt.selector, got, tt.match)
		}
	}
}

func asBadRequest(err error, target **badRequest) bool {
	b, ok := err.(*badRequest)
	*target = b
	return ok
}
