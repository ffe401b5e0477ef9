package podruntime

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/containerd/containerd/api/events"
	"github.com/containerd/typeurl/v2"

	"github.com/shoal-dev/shoal/api"
)

// Only the exit of a container's main process changes a pod's status: an
// exec's (exec probes, kubectl exec) must not wake the reconciler every few
// seconds. An OOM kill, and an event that cannot be read, do.
func TestMainExitTellsContainersFromExecs(t *testing.T) {
	anyOf := func(e *events.TaskExit) typeurl.Any {
		a, err := typeurl.MarshalAny(e)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, c := range []struct {
		name  string
		topic string
		event typeurl.Any
		want  bool
	}{
		{"main process", "/tasks/exit", anyOf(&events.TaskExit{ContainerID: "c1", ID: "c1", ExitStatus: 3}), true},
		{"exec", "/tasks/exit", anyOf(&events.TaskExit{ContainerID: "c1", ID: "probe-42"}), false},
		{"oom", "/tasks/oom", nil, true},
		{"unreadable", "/tasks/exit", unknownAny{}, true},
	} {
		if got := mainExit(c.topic, c.event); got != c.want {
			t.Errorf("%s: mainExit %v, want %v", c.name, got, c.want)
		}
	}
}

// unknownAny is an event of a type nothing registered.
type unknownAny struct{}

func (unknownAny) GetTypeUrl() string { return "shoal.test/unknown" }
func (unknownAny) GetValue() []byte   { return []byte{1} }

// A container that exits on its own signals Changes through containerd's
// event stream, with no sync to find it. The subscription starts in the
// background, so a new container exits until a signal comes.
func TestWatchExitsSignalsAContainerExit(t *testing.T) {
	r := newTestRuntime(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.WatchExits(ctx)
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		pod := newPod(t, fmt.Sprintf("exits-%d", i), api.RestartNever, shell("main", imageV1, "exit 0"))
		if err := r.SyncPod(ctx, pod, ""); err != nil {
			t.Fatalf("SyncPod: %v", err)
		}
		select {
		case <-r.Changes():
			return
		case <-time.After(2 * time.Second):
		}
	}
	t.Fatal("no change signalled in 30 s of containers exiting")
}
