package podruntime

import (
	"context"
	"fmt"
	"strconv"

	containerd "github.com/containerd/containerd"
)

// A container's task can vanish while the container stays: a power cut
// kills the shims, and containerd then forgets the tasks, exit codes
// included. A container that had started and lost its task is not a new
// one to start: its run ended, and the restart policy decides, as after any
// exit (Kubernetes reports it as ContainerStatusUnknown, exit code 137).
// And a container that had finished for good (restartPolicy Never, or
// OnFailure after exit 0) must not run again because its exited task went:
// its end is written into labels when it is first seen, since the task
// that held it may be the next thing to go.

// Labels of the run that ended for good.
const (
	labelFinalExitCode = "io.shoal.final.exit-code"
	labelFinalReason   = "io.shoal.final.reason"
	labelFinalFinished = "io.shoal.final.finished-at"
)

// reasonLost is Kubernetes' reason for a container whose end was not seen.
const reasonLost = "ContainerStatusUnknown"

// exitLost is the exit code reported for it: a kill, as Kubernetes says.
const exitLost = 137

// recordFinal keeps t as the container's last word once nothing will run
// it again.
func (r *Runtime) recordFinal(ctx context.Context, cont containerd.Container, labels map[string]string, t termination) error {
	if _, ok := labels[labelFinalExitCode]; ok {
		return nil
	}
	_, err := cont.SetLabels(ctx, map[string]string{
		labelFinalExitCode: strconv.Itoa(int(t.exitCode)),
		labelFinalReason:   t.reason,
		labelFinalFinished: formatTime(t.finishedAt),
	})
	if err != nil {
		return fmt.Errorf("record the end of container %s: %w", cont.ID(), err)
	}
	return nil
}

// finalFromLabels is the recorded end of a container that will not run
// again.
func finalFromLabels(l map[string]string) (termination, bool) {
	return terminationUnder(l, labelFinalExitCode, labelFinalReason, labelStartedAt, labelFinalFinished)
}

// lostRun is the end of a run whose task vanished: ok is false when the
// container never started (then it is simply started).
func (r *Runtime) lostRun(labels map[string]string) (termination, bool) {
	started := parseTime(labels[labelStartedAt])
	if started.IsZero() {
		return termination{}, false
	}
	return termination{exitCode: exitLost, reason: reasonLost, startedAt: started, finishedAt: r.now()}, true
}
