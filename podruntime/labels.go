package podruntime

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// Container labels: who the container belongs to, which spec made it, and
// what survives a task (restart count, last termination), so a restarted
// agent can adopt the container and still report its history.
const (
	labelPodUID        = "io.shoal.pod.uid"
	labelPodNamespace  = "io.shoal.pod.namespace"
	labelPodName       = "io.shoal.pod.name"
	labelContainer     = "io.shoal.container.name"
	labelSpecHash      = "io.shoal.container.hash"
	labelRestartCount  = "io.shoal.container.restart-count"
	labelStartedAt     = "io.shoal.container.started-at"
	labelLastExitCode  = "io.shoal.last.exit-code"
	labelLastReason    = "io.shoal.last.reason"
	labelLastStartedAt = "io.shoal.last.started-at"
	labelLastFinished  = "io.shoal.last.finished-at"
	labelInitDone      = "io.shoal.init.succeeded"
)

// containerID is "<first 12 of pod uid>-<container name>": short enough
// for every tool (at most 76 characters) and readable in `ctr c ls`.
func containerID(podUID, name string) string {
	p := podUID
	if len(p) > 12 {
		p = p[:12]
	}
	return p + "-" + name
}

// specHash fingerprints what the user asked of one container and the
// network namespace it joins; when either changes, that container alone is
// recreated (a container cannot move to another netns in place).
func specHash(c api.Container, netnsPath string) (string, error) {
	b, err := json.Marshal(struct {
		Container api.Container `json:"c"`
		Netns     string        `json:"n"`
	}{c, netnsPath})
	if err != nil {
		return "", fmt.Errorf("hash spec of container %s: %w", c.Name, err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8]), nil
}

// termination is a finished run of a container, kept in labels once its
// task is gone.
type termination struct {
	exitCode   int32
	reason     string
	startedAt  time.Time
	finishedAt time.Time
}

func (t termination) labels() map[string]string {
	return map[string]string{
		labelLastExitCode:  strconv.Itoa(int(t.exitCode)),
		labelLastReason:    t.reason,
		labelLastStartedAt: formatTime(t.startedAt),
		labelLastFinished:  formatTime(t.finishedAt),
	}
}

func terminationFromLabels(l map[string]string) (termination, bool) {
	return terminationUnder(l, labelLastExitCode, labelLastReason, labelLastStartedAt, labelLastFinished)
}

// terminationUnder reads a termination kept under the given label keys.
func terminationUnder(l map[string]string, codeKey, reasonKey, startedKey, finishedKey string) (termination, bool) {
	v, ok := l[codeKey]
	if !ok {
		return termination{}, false
	}
	code, err := strconv.Atoi(v)
	if err != nil {
		return termination{}, false
	}
	return termination{
		exitCode:   int32(code),
		reason:     l[reasonKey],
		startedAt:  parseTime(l[startedKey]),
		finishedAt: parseTime(l[finishedKey]),
	}, true
}

func (t termination) state(containerID string) api.ContainerState {
	return api.ContainerState{Terminated: &api.ContainerStateTerminated{
		ExitCode:    t.exitCode,
		Reason:      t.reason,
		StartedAt:   api.TimeOf(t.startedAt),
		FinishedAt:  api.TimeOf(t.finishedAt),
		ContainerID: containerID,
	}}
}

// exitReason is Kubernetes' reason for a termination.
func exitReason(code int32, oom bool) string {
	switch {
	case oom:
		return "OOMKilled"
	case code == 0:
		return "Completed"
	default:
		return "Error"
	}
}

func restartCount(l map[string]string) int32 {
	n, err := strconv.Atoi(l[labelRestartCount])
	if err != nil {
		return 0
	}
	return int32(n)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
