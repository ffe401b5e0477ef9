package node

import "github.com/shoal-dev/shoal/api"

// withSyncError is the status a failed sync leaves: what the runtime
// observes (after a power cut whose restart fails, the container is not
// running), with the sync's error as the message of every container that
// waits without one, as the kubelet reports a failed start
// (RunContainerError). Without it the fleet kept the status from before
// the failure: a dead container shown Running.
func withSyncError(st api.PodStatus, err error) api.PodStatus {
	mark := func(statuses []api.ContainerStatus) {
		for i := range statuses {
			w := statuses[i].State.Waiting
			if w == nil || w.Message != "" {
				continue
			}
			if w.Reason == "" || w.Reason == "ContainerCreating" {
				w.Reason = "RunContainerError"
			}
			w.Message = err.Error()
		}
	}
	mark(st.InitContainerStatuses)
	mark(st.ContainerStatuses)
	return st
}
