package printers

import (
	"fmt"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// PodColumns are kubectl's columns of a pod.
func PodColumns() []Column {
	return []Column{
		{"Name", "string", nameDesc, 0},
		{"Ready", "string", "The aggregate readiness state of this pod for accepting traffic.", 0},
		{"Status", "string", "The aggregate status of the containers in this pod.", 0},
		{"Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0},
		{"Age", "string", ageDesc, 0},
		{"IP", "string", "IP address allocated to the pod. Routable at least within the cluster.", 1},
		{"Node", "string", "NodeName is a request to schedule this pod onto a specific node.", 1},
		{"Nominated Node", "string", "nominatedNodeName is set when this pod preempts other pods on the node.", 1},
		{"Readiness Gates", "string", "If specified, all readiness gates will be evaluated for pod readiness.", 1},
	}
}

// Pod is the row of p under PodColumns: Kubernetes' printPod for the
// fields shoal has. The STATUS cell is the first init container that has
// not succeeded (Init:N/M, Init:<reason>), else the last container's
// waiting or terminated reason, else the phase; Terminating once deleted.
func Pod(p *api.Pod, now time.Time) []any {
	restarts, ready := 0, 0
	total := len(p.Spec.Containers)
	// Sidecars count among the pod's containers, as kubectl counts them.
	sidecars := map[string]bool{}
	for i := range p.Spec.InitContainers {
		if api.IsSidecar(&p.Spec.InitContainers[i]) {
			sidecars[p.Spec.InitContainers[i].Name] = true
			total++
		}
	}
	sidecarRestarts := 0
	var lastRestart time.Time
	noteRestart := func(cs *api.ContainerStatus) {
		if t := cs.LastTerminationState.Terminated; t != nil && t.FinishedAt.Time.After(lastRestart) {
			lastRestart = t.FinishedAt.Time
		}
	}
	reason := string(p.Status.Phase)
	if p.Status.Reason != "" {
		reason = p.Status.Reason
	}
	initializing := false
	for i := range p.Status.InitContainerStatuses {
		cs := &p.Status.InitContainerStatuses[i]
		restarts += int(cs.RestartCount)
		noteRestart(cs)
		if sidecars[cs.Name] {
			sidecarRestarts += int(cs.RestartCount)
		}
		term, wait := cs.State.Terminated, cs.State.Waiting
		switch {
		case term != nil && term.ExitCode == 0:
			continue
		case sidecars[cs.Name] && cs.Started != nil && *cs.Started:
			if cs.Ready {
				ready++
			}
			continue
		case term != nil:
			switch {
			case term.Reason != "":
				reason = "Init:" + term.Reason
			case term.Signal != 0:
				reason = fmt.Sprintf("Init:Signal:%d", term.Signal)
			default:
				reason = fmt.Sprintf("Init:ExitCode:%d", term.ExitCode)
			}
		case wait != nil && wait.Reason != "" && wait.Reason != "PodInitializing":
			reason = "Init:" + wait.Reason
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(p.Spec.InitContainers))
		}
		initializing = true
		break
	}
	if !initializing || conditionTrue(p, "Initialized") {
		restarts = sidecarRestarts
		running := false
		for i := len(p.Status.ContainerStatuses) - 1; i >= 0; i-- {
			cs := &p.Status.ContainerStatuses[i]
			restarts += int(cs.RestartCount)
			noteRestart(cs)
			term, wait := cs.State.Terminated, cs.State.Waiting
			switch {
			case wait != nil && wait.Reason != "":
				reason = wait.Reason
			case term != nil && term.Reason != "":
				reason = term.Reason
			case term != nil && term.Signal != 0:
				reason = fmt.Sprintf("Signal:%d", term.Signal)
			case term != nil:
				reason = fmt.Sprintf("ExitCode:%d", term.ExitCode)
			case cs.Ready && cs.State.Running != nil:
				running = true
				ready++
			}
		}
		if reason == "Completed" && running {
			reason = "NotReady"
			if conditionTrue(p, "Ready") {
				reason = "Running"
			}
		}
	}
	if p.ObjectMeta.DeletionTimestamp != nil && reason != "Succeeded" && reason != "Failed" {
		reason = "Terminating"
	}
	restartsCell := strconv.Itoa(restarts)
	if restarts != 0 && !lastRestart.IsZero() {
		restartsCell = fmt.Sprintf("%d (%s ago)", restarts, Age(lastRestart, now))
	}
	ip := p.Status.PodIP
	if len(p.Status.PodIPs) > 0 {
		ip = p.Status.PodIPs[0].IP
	}
	return []any{
		p.ObjectMeta.Name, fmt.Sprintf("%d/%d", ready, total), reason, restartsCell,
		Age(p.ObjectMeta.CreationTimestamp.Time, now),
		OrNone(ip), OrNone(p.Spec.NodeName), OrNone(p.Status.NominatedNodeName), "<none>",
	}
}

func conditionTrue(p *api.Pod, typ api.PodConditionType) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == typ {
			return c.Status == "True"
		}
	}
	return false
}
