package podruntime

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"

	"github.com/shoal-dev/shoal/api"
)

// healthyRun is how long a container must run before its crash back-off is
// forgotten, as the kubelet does.
const healthyRun = 10 * time.Minute

// SyncPod makes what runs on this node match the pod spec: it creates the
// sandbox, creates and starts missing containers, recreates containers whose
// spec changed, restarts exited ones by the restart policy (with back-off)
// and removes containers the spec no longer names. It is idempotent and is
// meant to be called again and again; a missing image is reported by
// PodStatus, not returned as an error.
func (r *Runtime) SyncPod(ctx context.Context, pod *api.Pod, netnsPath string) error {
	uid := pod.ObjectMeta.UID
	if uid == "" {
		return fmt.Errorf("sync pod %s/%s: no uid", pod.ObjectMeta.Namespace, pod.ObjectMeta.Name)
	}
	defer r.locks.lock(string(uid))()
	ctx = r.withNS(ctx)

	if err := r.ensureSandbox(string(uid), podHostname(pod)); err != nil {
		return fmt.Errorf("sync pod %s: %w", uid, err)
	}
	// A sandbox made again after a power cut has lost its resolv.conf,
	// which the kept containers' specs still mount.
	if _, err := r.resolvConfMount(pod); err != nil {
		return fmt.Errorf("sync pod %s: %w", uid, err)
	}
	if sharesPIDs(pod) {
		if err := r.ensurePIDNamespace(string(uid)); err != nil { // pidns.go
			return fmt.Errorf("sync pod %s: %w", uid, err)
		}
	}
	if pod.Spec.HostNetwork {
		var err error
		if netnsPath, err = r.hostNetns(pod, netnsPath); err != nil { // hostnetwork.go
			return fmt.Errorf("sync pod %s: %w", uid, err)
		}
	}
	if err := r.ensureVolumes(ctx, pod); err != nil {
		r.eventOnce(pod, "FailedMount/"+err.Error(), EventWarning, "FailedMount", err.Error())
		return fmt.Errorf("sync pod %s: %w", uid, err)
	}
	existing, err := r.containersOf(ctx, pod) // reads.go
	if err != nil {
		return fmt.Errorf("sync pod %s: %w", uid, err)
	}
	wanted := map[string]bool{}
	for _, c := range pod.Spec.InitContainers {
		wanted[c.Name] = true
	}
	for _, c := range pod.Spec.Containers {
		wanted[c.Name] = true
	}
	var errs []error
	for name, cont := range existing {
		if !wanted[name] {
			if err := r.destroyContainer(ctx, cont, r.stopGrace); err != nil {
				errs = append(errs, fmt.Errorf("remove container %s no longer in spec: %w", name, err))
			}
		}
	}
	// Init containers run one at a time, in order, each to success; the
	// app containers wait for all of them.
	// Sidecars (sidecars.go) start in their place and keep running.
	initialized := true
	appsUp := appsCreated(pod, existing)
	appsDone, err := r.appsDone(ctx, pod, existing)
	if err != nil {
		errs = append(errs, err)
	}
	for _, c := range pod.Spec.InitContainers {
		if api.IsSidecar(&c) {
			started, err := r.syncSidecar(ctx, pod, c, existing[c.Name], netnsPath, appsDone)
			if err != nil {
				errs = append(errs, err)
			}
			if started || appsUp {
				continue
			}
			initialized = false
			break
		}
		done, err := r.initSucceeded(ctx, existing[c.Name])
		if err != nil {
			errs = append(errs, err)
		}
		if done {
			continue
		}
		if err := r.syncContainer(ctx, pod, c, existing[c.Name], netnsPath, initRestartPolicy(pod)); err != nil {
			errs = append(errs, err)
		}
		initialized = false
		break
	}
	if initialized {
		for _, c := range pod.Spec.Containers {
			if err := r.killUnhealthy(ctx, pod, c, existing[c.Name]); err != nil {
				errs = append(errs, err)
			}
			if err := r.syncContainer(ctx, pod, c, existing[c.Name], netnsPath, pod.Spec.RestartPolicy); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := r.syncProbes(ctx, pod, netnsPath, initialized); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sync pod %s: %w", uid, err)
	}
	return nil
}

// initRestartPolicy is how a failed init container is retried: as the pod's
// policy says, except that a successful one never runs again.
func initRestartPolicy(pod *api.Pod) api.RestartPolicy {
	if pod.Spec.RestartPolicy == api.RestartNever {
		return api.RestartNever
	}
	return api.RestartOnFailure
}

// initSucceeded tells whether an init container has completed successfully,
// and records it in a label so that it is not run again even if its exited
// task is lost (a containerd restart, say).
func (r *Runtime) initSucceeded(ctx context.Context, cont containerd.Container) (bool, error) {
	if cont == nil {
		return false, nil
	}
	labels, err := cont.Labels(ctx)
	if err != nil {
		return false, fmt.Errorf("labels of container %s: %w", cont.ID(), err)
	}
	if labels[labelInitDone] == "true" {
		return true, nil
	}
	task, err := cont.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load task of container %s: %w", cont.ID(), err)
	}
	st, err := task.Status(ctx)
	if err != nil {
		return false, fmt.Errorf("status of container %s: %w", cont.ID(), err)
	}
	if st.Status != containerd.Stopped || st.ExitStatus != 0 {
		return false, nil
	}
	if _, err := cont.SetLabels(ctx, map[string]string{labelInitDone: "true"}); err != nil {
		return false, fmt.Errorf("record completion of init container %s: %w", cont.ID(), err)
	}
	return true, nil
}

func (r *Runtime) syncContainer(ctx context.Context, pod *api.Pod, c api.Container, cont containerd.Container, netnsPath string, policy api.RestartPolicy) error {
	uid := pod.ObjectMeta.UID
	hash, err := specHash(c, netnsPath)
	if err != nil {
		return err
	}
	var carried map[string]string
	if cont != nil {
		labels, err := cont.Labels(ctx)
		if err != nil {
			return fmt.Errorf("labels of container %s: %w", cont.ID(), err)
		}
		if labels[labelSpecHash] != hash {
			// The spec changed (a new image, say): this container alone is
			// replaced, keeping its history like a restart would.
			carried, err = r.retire(ctx, cont, labels)
			if err != nil {
				return err
			}
			r.event(pod, EventNormal, "Killing", fmt.Sprintf("Container %s definition changed, will be restarted", c.Name))
			r.probes.stopContainer(string(uid), c.Name)
			if err := r.destroyContainer(ctx, cont, r.stopGrace); err != nil {
				return fmt.Errorf("replace container %s: %w", c.Name, err)
			}
			r.log.Info("container spec changed, replacing", "pod", uid, "container", c.Name)
			cont = nil
		}
	}

	if cont == nil {
		// The image is needed only to create: a container that exists keeps
		// its snapshot even if its image is deleted meanwhile.
		r.imageUse.RLock()
		img, err := r.ensureImage(ctx, pod, c, hash)
		if err != nil || img == nil {
			r.imageUse.RUnlock()
			return err // nil while the image is on its way: PodStatus says why
		}
		r.pulls.clear(pullKey(string(uid), c.Name))
		env, ok := r.resolveEnv(ctx, pod, c) // podruntime/env.go
		if ok {
			ok, err = r.admitNonRoot(ctx, pod, c, img) // security.go
		}
		if !ok || err != nil {
			r.imageUse.RUnlock()
			return err // nil: waits with CreateContainerConfigError; PodStatus says why
		}
		// $(NAME) in command and args comes from the environment
		// (env_expand.go); the spec hash stays that of the manifest.
		cont, err = r.createContainer(ctx, pod, expandCommand(c, env), img, netnsPath, hash, carried, env)
		r.imageUse.RUnlock()
		if err != nil {
			r.event(pod, EventWarning, "Failed", fmt.Sprintf("Error: create container %s: %v", c.Name, err))
			return err
		}
		r.event(pod, EventNormal, "Created", "Created container "+c.Name)
		return r.startAndReport(ctx, pod, cont, c)
	}
	return r.syncTask(ctx, pod, c, cont, policy)
}

// startAndReport starts a new task, reports it as an event either way,
// and runs the container's postStart hook (hooks.go).
func (r *Runtime) startAndReport(ctx context.Context, pod *api.Pod, cont containerd.Container, c api.Container) error {
	name := c.Name
	if err := r.startTask(ctx, cont, string(pod.ObjectMeta.UID), name); err != nil {
		r.event(pod, EventWarning, "Failed", fmt.Sprintf("Error: start container %s: %v", name, err))
		return err
	}
	r.event(pod, EventNormal, "Started", "Started container "+name)
	return r.postStart(ctx, pod, c, cont)
}

// syncTask starts a container that has no running process and restarts an
// exited one when the restart policy and the back-off allow.
func (r *Runtime) syncTask(ctx context.Context, pod *api.Pod, c api.Container, cont containerd.Container, policy api.RestartPolicy) error {
	uid := pod.ObjectMeta.UID
	labels, err := cont.Labels(ctx)
	if err != nil {
		return fmt.Errorf("labels of container %s: %w", cont.ID(), err)
	}
	if _, done := finalFromLabels(labels); done {
		return nil // ended for good, even if its exited task is gone: podruntime/lost.go
	}
	st, err := r.taskState(ctx, cont) // reads.go
	if errdefs.IsNotFound(err) {
		return r.syncLostTask(ctx, pod, c, cont, labels, nil, policy)
	}
	if err != nil {
		return fmt.Errorf("status of container %s: %w", cont.ID(), err)
	}
	switch st.Status {
	case containerd.Created, containerd.Stopped, containerd.Unknown:
	default:
		return nil // running or paused: nothing to do, no need of the task
	}
	task, err := cont.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return r.syncLostTask(ctx, pod, c, cont, labels, nil, policy)
	}
	if err != nil {
		return fmt.Errorf("load task of container %s: %w", cont.ID(), err)
	}
	switch st.Status {
	case containerd.Created:
		if err := task.Start(ctx); err != nil {
			return fmt.Errorf("start task of container %s: %w", cont.ID(), err)
		}
		_, err := cont.SetLabels(ctx, map[string]string{labelStartedAt: formatTime(r.now())})
		return err
	case containerd.Stopped:
	case containerd.Unknown:
		// The shim lost track of the process.
		return r.syncLostTask(ctx, pod, c, cont, labels, task, policy)
	default:
		return nil // running or paused
	}

	code := int32(st.ExitStatus)
	if !shouldRestart(api.RestartPolicy(policy), code) {
		if code != 0 {
			r.eventOnce(pod, fmt.Sprintf("Exited/%s/%s", c.Name, st.ExitTime), EventWarning, "Failed",
				fmt.Sprintf("Container %s exited with code %d and will not be restarted (restartPolicy %s)", c.Name, code, pod.Spec.RestartPolicy))
		}
		end := termination{exitCode: code, reason: exitReason(code, code == 137 && oomKilled(ctx, cont)), startedAt: parseTime(labels[labelStartedAt]), finishedAt: st.ExitTime}
		return r.recordFinal(ctx, cont, labels, end)
	}
	if ran := st.ExitTime.Sub(parseTime(labels[labelStartedAt])); ran > healthyRun {
		r.backoff.forget(cont.ID())
	}
	if wait := r.backoff.wait(cont.ID(), r.now()); wait > 0 {
		r.eventOnce(pod, fmt.Sprintf("BackOff/%s/%d", c.Name, restartCount(labels)), EventWarning, "BackOff",
			fmt.Sprintf("Back-off %s restarting failed container %s", wait.Round(time.Second), c.Name))
		return nil
	}
	carried, err := r.retire(ctx, cont, labels)
	if err != nil {
		return err
	}
	if _, err := task.Delete(ctx); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("delete exited task of container %s: %w", cont.ID(), err)
	}
	if _, err := cont.SetLabels(ctx, carried); err != nil {
		return fmt.Errorf("record restart of container %s: %w", cont.ID(), err)
	}
	r.backoff.restarted(cont.ID(), r.now())
	r.log.Info("restarting container", "pod", uid, "container", c.Name, "exitCode", code, "restartCount", carried[labelRestartCount])
	return r.startAndReport(ctx, pod, cont, c)
}

// syncLostTask handles a container whose task is gone (task nil) or lost
// by its shim: never started, it starts; else its run ended unseen, and
// the restart policy decides as for exit code 137 (podruntime/lost.go).
func (r *Runtime) syncLostTask(ctx context.Context, pod *api.Pod, c api.Container, cont containerd.Container, labels map[string]string, task containerd.Task, policy api.RestartPolicy) error {
	if task != nil {
		if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("delete lost task of container %s: %w", cont.ID(), err)
		}
	}
	end, ran := r.lostRun(labels)
	if !ran {
		return r.startAndReport(ctx, pod, cont, c)
	}
	r.eventOnce(pod, fmt.Sprintf("Lost/%s/%s", c.Name, labels[labelStartedAt]), EventWarning, "Failed",
		fmt.Sprintf("Container %s was lost with its task (the node lost power or its runtime); its end is unknown", c.Name))
	if !shouldRestart(api.RestartPolicy(policy), end.exitCode) {
		return r.recordFinal(ctx, cont, labels, end)
	}
	if wait := r.backoff.wait(cont.ID(), r.now()); wait > 0 {
		return nil // its last restart failed to start: back off as a crash does
	}
	carried := map[string]string{labelRestartCount: strconv.Itoa(int(restartCount(labels)) + 1)}
	for k, v := range end.labels() {
		carried[k] = v
	}
	if _, err := cont.SetLabels(ctx, carried); err != nil {
		return fmt.Errorf("record restart of container %s: %w", cont.ID(), err)
	}
	r.backoff.restarted(cont.ID(), r.now())
	r.log.Info("restarting a container whose task was lost", "pod", pod.ObjectMeta.UID, "container", c.Name, "restartCount", carried[labelRestartCount])
	return r.startAndReport(ctx, pod, cont, c)
}

// retire computes the labels that carry a container's history past its
// current task: one more restart, and the task's termination (if it ran).
// It must run before the task is deleted, while the exit and OOM state can
// still be read.
func (r *Runtime) retire(ctx context.Context, cont containerd.Container, labels map[string]string) (map[string]string, error) {
	carried := map[string]string{labelRestartCount: strconv.Itoa(int(restartCount(labels)) + 1)}
	if t, ok := terminationFromLabels(labels); ok {
		for k, v := range t.labels() {
			carried[k] = v
		}
	}
	task, err := cont.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return carried, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load task of container %s: %w", cont.ID(), err)
	}
	st, err := task.Status(ctx)
	if err != nil || st.Status != containerd.Stopped {
		// Still running: the caller stops it; its exit is not a crash worth
		// reporting as the last state.
		return carried, nil
	}
	code := int32(st.ExitStatus)
	t := termination{
		exitCode:   code,
		reason:     exitReason(code, oomKilled(ctx, cont)),
		startedAt:  parseTime(labels[labelStartedAt]),
		finishedAt: st.ExitTime,
	}
	for k, v := range t.labels() {
		carried[k] = v
	}
	return carried, nil
}

// shouldRestart applies the pod's restart policy to an exit code.
func shouldRestart(policy api.RestartPolicy, exitCode int32) bool {
	switch policy {
	case api.RestartNever:
		return false
	case api.RestartOnFailure:
		return exitCode != 0
	default: // Always, and the Kubernetes default when unset
		return true
	}
}
