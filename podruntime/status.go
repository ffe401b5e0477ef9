package podruntime

import (
	"context"
	"fmt"
	"strings"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"

	"github.com/shoal-dev/shoal/api"
)

// containerView is one container's status plus what the pod phase needs.
type containerView struct {
	status      api.ContainerStatus
	startedOnce bool
	running     bool
	// done: terminated and the restart policy will not start it again.
	done     bool
	exitCode int32
}

// PodStatus reports the phase, the conditions and the (init) container
// statuses of a pod as this node sees them. It leaves podIP and hostIP to
// the caller.
func (r *Runtime) PodStatus(ctx context.Context, pod *api.Pod) (api.PodStatus, error) {
	ctx = r.withNS(ctx)
	uid := pod.ObjectMeta.UID
	existing, err := r.containersOf(ctx, pod) // reads.go
	if err != nil {
		return api.PodStatus{}, fmt.Errorf("status of pod %s: %w", uid, err)
	}
	st := api.PodStatus{}
	// The app containers first: whether they are done decides how a
	// sidecar's exit is read (sidecars.go).
	views := make([]containerView, 0, len(pod.Spec.Containers))
	for _, c := range pod.Spec.Containers {
		v, err := r.containerStatus(ctx, pod, c, existing[c.Name], pod.Spec.RestartPolicy, false)
		if err != nil {
			return api.PodStatus{}, fmt.Errorf("status of pod %s: %w", uid, err)
		}
		views = append(views, v)
	}
	appsUp := appsCreated(pod, existing)
	appsDone, err := r.appsDone(ctx, pod, existing)
	if err != nil {
		return api.PodStatus{}, fmt.Errorf("status of pod %s: %w", uid, err)
	}
	initialized, initFailed := true, false
	sidecarsReady := true
	for _, c := range pod.Spec.InitContainers {
		sidecar := api.IsSidecar(&c)
		policy := initRestartPolicy(pod)
		if sidecar {
			policy = sidecarPolicy(appsDone)
		}
		v, err := r.containerStatus(ctx, pod, c, existing[c.Name], policy, true)
		if err != nil {
			return api.PodStatus{}, fmt.Errorf("status of pod %s: %w", uid, err)
		}
		if !initialized && existing[c.Name] == nil {
			v.status.State = api.ContainerState{Waiting: &api.ContainerStateWaiting{Reason: "PodInitializing"}}
		}
		st.InitContainerStatuses = append(st.InitContainerStatuses, v.status)
		succeeded := v.done && v.exitCode == 0
		if sidecar {
			// A sidecar counts once started, and a pod once initialized
			// (or finished) stays so; its readiness counts in the pod's.
			succeeded = appsUp || appsDone || (v.status.Started != nil && *v.status.Started)
			sidecarsReady = sidecarsReady && v.status.Ready
		}
		if initialized && !succeeded {
			initialized = false
			initFailed = v.done && !sidecar
		}
	}
	for i, c := range pod.Spec.Containers {
		if !initialized && existing[c.Name] == nil {
			views[i].status.State = api.ContainerState{Waiting: &api.ContainerStateWaiting{Reason: "PodInitializing"}}
		}
	}
	switch {
	case initFailed:
		st.Phase = api.PodFailed
	case !initialized:
		st.Phase = api.PodPending
	default:
		st.Phase = podPhase(views)
	}
	allReady := len(views) > 0 && sidecarsReady
	for _, v := range views {
		st.ContainerStatuses = append(st.ContainerStatuses, v.status)
		allReady = allReady && v.status.Ready
	}
	st.Conditions = []api.PodCondition{
		{Type: "Initialized", Status: condStatus(initialized)},
		{Type: "ContainersReady", Status: condStatus(allReady)},
		{Type: "Ready", Status: condStatus(allReady)},
	}
	if !initialized {
		st.Conditions[0].Reason = "ContainersNotInitialized"
		st.Conditions[0].Message = "containers with incomplete status: " + pendingInits(pod, st.InitContainerStatuses)
	}
	return st, nil
}

func condStatus(b bool) api.ConditionStatus {
	if b {
		return "True"
	}
	return "False"
}

// pendingInits names the init containers that have not succeeded yet.
func pendingInits(pod *api.Pod, statuses []api.ContainerStatus) string {
	var names []string
	for i, c := range pod.Spec.InitContainers {
		if i < len(statuses) {
			if t := statuses[i].State.Terminated; t != nil && t.ExitCode == 0 {
				continue
			}
			if started := statuses[i].Started; api.IsSidecar(&c) && started != nil && *started {
				continue
			}
		}
		names = append(names, c.Name)
	}
	return "[" + strings.Join(names, " ") + "]"
}

// podPhase follows Kubernetes: Pending until every container has started
// once; Succeeded or Failed once all are terminated for good; else Running.
func podPhase(views []containerView) api.PodPhase {
	if len(views) == 0 {
		return api.PodPending
	}
	allDone, anyFailed := true, false
	for _, v := range views {
		if !v.startedOnce {
			return api.PodPending
		}
		if !v.done {
			allDone = false
		} else if v.exitCode != 0 {
			anyFailed = true
		}
	}
	switch {
	case !allDone:
		return api.PodRunning
	case anyFailed:
		return api.PodFailed
	default:
		return api.PodSucceeded
	}
}

// containerStatus reports one container; policy is the restart policy that
// applies to it (init containers are retried only on failure).
func (r *Runtime) containerStatus(ctx context.Context, pod *api.Pod, c api.Container, cont containerd.Container, policy api.RestartPolicy, isInit bool) (containerView, error) {
	cs := api.ContainerStatus{Name: c.Name, Image: c.Image}
	started := false
	cs.Started = &started
	if cont == nil {
		w := r.pulls.waitingFor(pullKey(string(pod.ObjectMeta.UID), c.Name))
		if w == nil {
			w = &api.ContainerStateWaiting{Reason: reasonCreating}
		}
		cs.State.Waiting = w
		return containerView{status: cs}, nil
	}

	id := "containerd://" + cont.ID()
	cs.ContainerID = id
	labels, err := cont.Labels(ctx)
	if errdefs.IsNotFound(err) {
		cs.State.Waiting = &api.ContainerStateWaiting{Reason: "ContainerCreating"}
		return containerView{status: cs}, nil
	}
	if err != nil {
		return containerView{}, fmt.Errorf("labels of container %s: %w", cont.ID(), err)
	}
	if digest, err := r.imageDigest(ctx, cont); err == nil {
		cs.ImageID = digest
	}
	cs.RestartCount = restartCount(labels)
	last, hasLast := terminationFromLabels(labels)
	if hasLast {
		cs.LastTerminationState = last.state(id)
	}
	startedAt := parseTime(labels[labelStartedAt])
	v := containerView{startedOnce: !startedAt.IsZero() || cs.RestartCount > 0}

	ts, err := r.taskState(ctx, cont)       // reads.go
	final, ended := finalFromLabels(labels) // podruntime/lost.go
	switch {
	case errdefs.IsNotFound(err) && labels[labelInitDone] == "true":
		// A completed init container whose exited task is gone.
		ts = containerd.Status{Status: containerd.Stopped, ExitStatus: 0}
	case errdefs.IsNotFound(err) && ended:
		// Ended for good, and its exited task is gone: what was recorded.
		v.exitCode, v.done = final.exitCode, true
		cs.State = final.state(id)
		cs.Ready = isInit && final.exitCode == 0
		v.status = cs
		return v, nil
	case errdefs.IsNotFound(err):
		ts = containerd.Status{Status: containerd.Unknown}
	case err != nil:
		return containerView{}, fmt.Errorf("task of container %s: %w", cont.ID(), err)
	}

	switch ts.Status {
	case containerd.Running, containerd.Paused, containerd.Pausing:
		v.running = true
		started, cs.Ready = r.probeView(string(pod.ObjectMeta.UID), c, labels[labelStartedAt])
		cs.State.Running = &api.ContainerStateRunning{StartedAt: api.TimeOf(startedAt)}
	case containerd.Stopped:
		code := int32(ts.ExitStatus)
		term := termination{
			exitCode:   code,
			reason:     exitReason(code, code == 137 && oomKilled(ctx, cont)),
			startedAt:  startedAt,
			finishedAt: ts.ExitTime,
		}
		v.exitCode = code
		if !shouldRestart(api.RestartPolicy(policy), code) {
			v.done = true
			cs.State = term.state(id)
			// An init container that completed is ready, as in Kubernetes.
			cs.Ready = isInit && code == 0
			break
		}
		wait := r.backoff.wait(cont.ID(), r.now())
		if wait <= 0 {
			cs.State = term.state(id) // about to be restarted by the next sync
			break
		}
		cs.LastTerminationState = term.state(id)
		cs.State.Waiting = &api.ContainerStateWaiting{
			Reason:  "CrashLoopBackOff",
			Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", wait.Round(time.Second), c.Name, pod.ObjectMeta.Name),
		}
	default:
		reason := "ContainerCreating"
		if v.startedOnce {
			reason = "CrashLoopBackOff"
		}
		cs.State.Waiting = &api.ContainerStateWaiting{Reason: reason}
	}
	v.status = cs
	return v, nil
}
