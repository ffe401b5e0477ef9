package main

import (
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func TestPodDisplayStatusShowsInitProgressAndFailures(t *testing.T) {
	done := api.ContainerStatus{State: api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}}}
	running := api.ContainerStatus{State: api.ContainerState{Running: &api.ContainerStateRunning{}}}
	waiting := func(reason string) api.ContainerStatus {
		return api.ContainerStatus{State: api.ContainerState{Waiting: &api.ContainerStateWaiting{Reason: reason}}}
	}
	failed := api.ContainerStatus{State: api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}
	for want, inits := range map[string][]api.ContainerStatus{
		"Init:0/2":               {running, waiting("PodInitializing")},
		"Init:1/2":               {done, running},
		"Init:Error":             {done, failed},
		"Init:CrashLoopBackOff":  {waiting("CrashLoopBackOff"), waiting("PodInitializing")},
		"Init:ErrImageNeverPull": {waiting("ErrImageNeverPull"), waiting("PodInitializing")},
		"Running":                {done, done},
	} {
		p := &api.Pod{Spec: api.PodSpec{NodeName: "n1", InitContainers: make([]api.Container, len(inits))}, Status: api.PodStatus{Phase: api.PodPending, InitContainerStatuses: inits,
			ContainerStatuses: []api.ContainerStatus{waiting("PodInitializing")}}}
		if want == "Running" {
			p.Status.Phase = api.PodRunning
			p.Status.ContainerStatuses = []api.ContainerStatus{running}
		}
		if got := podDisplayStatus(p); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}
