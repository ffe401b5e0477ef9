package apiserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

// A pod bound to a ready node is deleted gracefully: the DELETE answers it
// Terminating, with the grace of the query or the DeleteOptions body; the
// node's final delete (grace 0, its UID as precondition) removes it; bad
// options are refused by name and change nothing.
func TestPodDeleteIsGracefulWithTheRequestsGrace(t *testing.T) {
	base := boundPodAPI(t, &usageRuntime{})
	pod := base + "/api/v1/namespaces/default/pods/web"
	stillThere := func(what string) {
		t.Helper()
		if code, _ := do(t, "GET", pod, "", "", ""); code != http.StatusOK {
			t.Fatalf("%s: GET = %d, want the pod still there", what, code)
		}
	}
	for _, c := range []struct {
		url, body string
		code      int
		want      string
	}{
		{pod + "?gracePeriodSeconds=-1", "", http.StatusBadRequest, "gracePeriodSeconds"},
		{pod + "?gracePeriodSeconds=soon", "", http.StatusBadRequest, "gracePeriodSeconds"},
		{pod, `{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0,"preconditions":{"uid":"not-it"}}`, http.StatusConflict, "precondition failed: uid not-it"},
	} {
		code, st, raw := request(t, "DELETE", c.url, "application/json", c.body)
		if code != c.code && !(c.code == http.StatusBadRequest && code == http.StatusUnprocessableEntity) || !strings.Contains(st.Message, c.want) {
			t.Errorf("DELETE %s %s: HTTP %d %s, want %d naming %q", c.url, c.body, code, raw, c.code, c.want)
		}
		stillThere(c.url + " " + c.body)
	}
	code, b := do(t, "DELETE", pod, "application/json", "", `{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":7}`)
	if code != http.StatusOK {
		t.Fatalf("graceful DELETE: %d %s", code, b)
	}
	var got api.Pod
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.DeletionTimestamp == nil || got.DeletionGracePeriodSeconds == nil || *got.DeletionGracePeriodSeconds != 7 {
		t.Fatalf("answered deletionTimestamp %v grace %v, want set and 7", got.DeletionTimestamp, got.DeletionGracePeriodSeconds)
	}
	stillThere("graceful delete")
	code, b = do(t, "DELETE", pod+"?gracePeriodSeconds=0", "application/json", "", `{"preconditions":{"uid":"uid-web"}}`)
	if code != http.StatusOK {
		t.Fatalf("final DELETE: %d %s", code, b)
	}
	if code, _ := do(t, "GET", pod, "", "", ""); code != http.StatusNotFound {
		t.Fatalf("after the final delete GET = %d, want 404", code)
	}
}
