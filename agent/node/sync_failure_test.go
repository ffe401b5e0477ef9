package node

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// deadRuntime holds a pod whose container died with its node's power and
// cannot be started again: every sync fails, and the status it observes is
// a container that is not running (podruntime: a lost task waits).
type deadRuntime struct{ *memRuntime }

var errStart = errors.New("start task of container app: failed to create shim task: OCI runtime create failed")

func (deadRuntime) SyncPod(context.Context, *api.Pod, string) error { return errStart }

func (deadRuntime) PodStatus(ctx context.Context, p *api.Pod) (api.PodStatus, error) {
	return api.PodStatus{Phase: api.PodRunning, ContainerStatuses: []api.ContainerStatus{{Name: "app", RestartCount: 1,
		State: api.ContainerState{Waiting: &api.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}}}, nil
}

// A failed sync reports what it left: the container that ran before the
// power cut is no longer shown Running, and the message says why.
func TestFailedSyncReportsTheContainerNotRunning(t *testing.T) {
	status := &statusLog{}
	r, err := New(Config{Name: "n1", Resync: time.Minute}, Deps{Assignments: newViewQueue(), Status: status,
		Runtime: deadRuntime{newMemRuntime("p1")}, Network: &memNetwork{}, Fence: newTestFencer(2*time.Second, &fleetAt{})})
	if err != nil {
		t.Fatal(err)
	}
	ready := api.PodCondition{Type: "Ready", Status: "True"}
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p1", Namespace: "default", UID: "p1"},
		Spec: api.PodSpec{NodeName: "n1", HostNetwork: true, Containers: []api.Container{{Name: "app"}}},
		Status: api.PodStatus{Phase: api.PodRunning, Conditions: []api.PodCondition{ready}, ContainerStatuses: []api.ContainerStatus{{Name: "app", Ready: true,
			State: api.ContainerState{Running: &api.ContainerStateRunning{}}}}}}
	if err := r.syncPod(context.Background(), p); !errors.Is(err, errStart) {
		t.Fatalf("sync: %v, want the runtime's error", err)
	}
	got := status.of("p1")
	if len(got) != 1 {
		t.Fatalf("a failed sync reported %d statuses, want 1", len(got))
	}
	cs := got[0].ContainerStatuses[0]
	if cs.State.Running != nil || cs.Ready || cs.State.Waiting == nil || !strings.Contains(cs.State.Waiting.Message, errStart.Error()) {
		t.Fatalf("reported container %+v (waiting %+v), want not running, not ready, waiting with the sync's error", cs, cs.State.Waiting)
	}
	for _, c := range got[0].Conditions {
		if c.Type == "Ready" && c.Status != "False" {
			t.Fatalf("the pod is still Ready after its sync failed: %+v", got[0].Conditions)
		}
	}
}
