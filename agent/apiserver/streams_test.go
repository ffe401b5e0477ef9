package apiserver

import (
	"errors"
	"net/http"
	"testing"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/podruntime"
)

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
