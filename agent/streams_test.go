package agent

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/podruntime"
)

func TestExecStatusIsWhatKubectlReadsForExitCodes(t *testing.T) {
	ok := execStatus([]string{"true"}, 0, nil)
	if ok.Status != "Success" || ok.Details != nil {
		t.Errorf("exit 0 = %+v, want Success", ok)
	}
	st := execStatus([]string{"sh", "-c", "exit 3"}, 3, nil)
	if st.Status != "Failure" || st.Reason != "NonZeroExitCode" || st.Details == nil || len(st.Details.Causes) != 1 ||
		st.Details.Causes[0].Type != "ExitCode" || st.Details.Causes[0].Message != "3" {
		t.Errorf("exit 3 = %+v, want NonZeroExitCode with an ExitCode cause 3", st)
	}
	nr := execStatus([]string{"true"}, 0, errors.Join(errors.New("exec"), podruntime.ErrNotRunning))
	if nr.Reason != "BadRequest" || nr.Code != http.StatusBadRequest {
		t.Errorf("not running = %+v, want BadRequest", nr)
	}
}

func TestPickContainerFollowsKubectlRules(t *testing.T) {
	one := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p"}, Spec: api.PodSpec{Containers: []api.Container{{Name: "main"}}}}
	two := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p"}, Spec: api.PodSpec{Containers: []api.Container{{Name: "a"}, {Name: "b"}}}}
	for _, tc := range []struct {
		pod        *api.Pod
		name, path string
		want       string
		wantErr    bool
	}{
		{one, "", "/log", "main", false},
		{one, "main", "/log", "main", false},
		{one, "other", "/exec", "", true},
		{two, "", "/log", "", true},
		{two, "b", "/exec", "b", false},
		{two, "", "/portforward", "", false},
	} {
		got, err := pickContainer(tc.pod, tc.name, "/api/v1/namespaces/default/pods/p"+tc.path)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("pickContainer(%d containers, %q, %s) = %q, %v", len(tc.pod.Spec.Containers), tc.name, tc.path, got, err)
		}
	}
}

func TestEventFieldSelectorMatchesInvolvedObject(t *testing.T) {
	ev := &api.Event{InvolvedObject: api.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web", UID: "u1"}, Type: api.EventNormal, Reason: "Started"}
	for sel, want := range map[string]bool{
		"": true,
		"involvedObject.name=web,involvedObject.namespace=default,involvedObject.uid=u1": true,
		"involvedObject.name=db":      false,
		"involvedObject.kind==Pod":    true,
		"type!=Normal":                false,
		"reason=Started,type=Warning": false,
	} {
		match, err := eventFieldSelector(sel)
		if err != nil {
			t.Fatalf("%q: %v", sel, err)
		}
		if got := match(ev); got != want {
			t.Errorf("%q matched %v, want %v", sel, got, want)
		}
	}
	if _, err := eventFieldSelector("metadata.name=x"); err == nil {
		t.Error("an unsupported field selector was accepted")
	}
}

func TestEventBatcherFoldsRepeatsAndKeepsThoseArrivedInFlight(t *testing.T) {
	b := &eventBatcher{a: &Agent{cfg: Config{Name: "n1"}}, kick: make(chan struct{}, 1), now: func() time.Time { return time.Unix(100, 0) }}
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default", UID: "u1"}}
	b.Event(pod, api.EventWarning, "BackOff", "back-off")
	b.Event(pod, api.EventWarning, "BackOff", "back-off")
	b.Event(pod, api.EventNormal, "Started", "started")
	if len(b.pending) != 2 || b.pending[0].Count != 2 || b.pending[0].Source.Host != "n1" {
		t.Fatalf("pending %+v, want BackOff x2 and Started", b.pending)
	}
	sent := append([]api.Event(nil), b.pending...)
	b.Event(pod, api.EventWarning, "BackOff", "back-off") // while the batch is in flight
	b.pending = dropSent(b.pending, sent)
	if len(b.pending) != 1 || b.pending[0].Reason != "BackOff" || b.pending[0].Count != 1 {
		t.Errorf("after sending, pending %+v, want only the one BackOff that came in flight", b.pending)
	}
}
