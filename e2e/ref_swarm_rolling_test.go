package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// rollingMaxSurge is the rolling benchmark Deployment's maxSurge of 25% of
// 30 replicas, rounded up as Kubernetes does.
const rollingMaxSurge = 8

// TestRefSwarmRollingUpdate is TestBenchRollingUpdate on Swarm: 3
// managers, a service of 30 replicas rolled to another image with `docker
// service update` (alternating between two tags loaded into every
// daemon, one update per run). What maps to what:
//   - the readiness probe (exec `cat /tmp/ready`, every second) is a
//     health check running the same command every second (--health-cmd,
//     --health-interval 1s, no start period, one failure counts); Docker's
//     executor reports a task Running only once its container is healthy,
//     so Running is Swarm's Ready;
//   - terminationGracePeriodSeconds 1 is --stop-grace-period 1s (sleep as
//     PID 1 ignores SIGTERM; Swarm's default would wait 10 s per task);
//   - maxSurge 25% and maxUnavailable 25% together have no Swarm
//     equivalent: Swarm either stops a batch before starting its
//     replacements or starts them first. Two settings, each on a fresh
//     service: swarm_rolling-update is stop-first with
//     --update-parallelism 7 (maxUnavailable: never fewer than 23, no
//     surge); swarm_rolling-update-start-first is start-first with
//     --update-parallelism 8 (maxSurge: up to 38, none missing).
//
// The update is sent with --detach and --no-resolve-image (no registry:
// the CLI would otherwise ask one for the tag's digest, and without
// --detach it waits out Swarm's monitor period besides). Every ~100 ms the
// manager's task list is read: the time is until all 30 tasks meant to
// run are Running the new image (what `kubectl rollout status` waits
// for), and the least number Running while it rolled is the minimum
// Ready. completed_s is when Swarm itself marks the update completed (its
// 5 s monitor period later); the next run waits for it.
func TestRefSwarmRollingUpdate(t *testing.T) {
	requireRef(t)
	l := newSwarmLab(t, "r", 3)
	l.formSwarm(3)
	const image2 = "shoal.local/busybox:2"
	archive := buildBusybox(t)
	l.loadImage(archive, refImage)
	l.loadImage(archive, image2)
	n1 := l.nodes[0]
	for _, setting := range []struct {
		bench, order string
		parallelism  int
	}{
		{"swarm_rolling-update", "stop-first", rollingMaxUnavailable},
		{"swarm_rolling-update-start-first", "start-first", rollingMaxSurge},
	} {
		svc := strings.TrimPrefix(setting.bench, "swarm_")
		l.run(n1, "service", "create", "--detach", "--no-resolve-image", "--name", svc,
			"--replicas", fmt.Sprint(rollingReplicas),
			"--health-cmd", "cat /tmp/ready", "--health-interval", "1s", "--health-retries", "1", "--health-start-period", "0s",
			"--stop-grace-period", "1s",
			"--update-order", setting.order, "--update-parallelism", fmt.Sprint(setting.parallelism),
			refImage, "sh", "-c", "touch /tmp/ready; exec sleep 100000")
		l.waitServiceRunning(n1, svc, rollingReplicas, nil, time.Now())
		l.waitUpdateIdle(svc)
		images := []string{image2, refImage}
		for run := 1; run <= benchRuns(t, 3); run++ {
			img := images[(run-1)%2]
			start := time.Now()
			l.run(n1, "service", "update", "--detach", "--no-resolve-image", "--image", img, svc)
			total, minRunning, samples := l.waitRolled(svc, img, start)
			completed := l.waitUpdateIdle(svc)
			record(t, setting.bench, map[string]any{"run": run, "replicas": rollingReplicas, "nodes": 3,
				"order": setting.order, "parallelism": setting.parallelism,
				"total_s": seconds(total), "completed_s": seconds(completed.Sub(start)), "min_ready": minRunning, "samples": samples})
		}
		l.run(n1, "service", "rm", svc)
		l.waitNoContainers(nil)
	}
}

// rollTask is a task meant to run, with its image and state.
type rollTask struct{ image, state string }

func (l *swarmLab) rollTasks(svc string) ([]rollTask, error) {
	out, err := l.try(l.nodes[0], "service", "ps", svc, "--filter", "desired-state=running",
		"--format", "{{.Image}}\t{{.CurrentState}}")
	if err != nil {
		return nil, err
	}
	var ts []rollTask
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if img, state, ok := strings.Cut(line, "\t"); ok {
			img, _, _ = strings.Cut(img, "@")
			ts = append(ts, rollTask{image: img, state: state})
		}
	}
	return ts, nil
}

// waitRolled polls the task list every ~100 ms until the service's
// replicas all run img and nothing else is meant to run, and returns how
// long after start that was, the fewest tasks seen Running meanwhile and
// how many samples it took.
func (l *swarmLab) waitRolled(svc, img string, start time.Time) (time.Duration, int, int) {
	l.t.Helper()
	minRunning, samples := rollingReplicas, 0
	var last string
	for time.Since(start) < refWait {
		ts, err := l.rollTasks(svc)
		if err != nil {
			last = err.Error()
			time.Sleep(100 * time.Millisecond)
			continue
		}
		took := time.Since(start)
		running, updated := 0, 0
		for _, tk := range ts {
			if strings.HasPrefix(tk.state, "Running") {
				running++
				if tk.image == img {
					updated++
				}
			}
		}
		minRunning, samples = min(minRunning, running), samples+1
		if updated == rollingReplicas && len(ts) == rollingReplicas {
			return took, minRunning, samples
		}
		last = fmt.Sprintf("%d meant to run, %d Running, %d Running %s", len(ts), running, updated, img)
		time.Sleep(100 * time.Millisecond)
	}
	l.logService(svc)
	l.t.Fatalf("%s never rolled to %s; last: %s", svc, img, last)
	return 0, 0, 0
}

// waitUpdateIdle polls until the service has no update in progress (none
// yet, or the last one completed) and returns when it saw that.
func (l *swarmLab) waitUpdateIdle(svc string) time.Time {
	l.t.Helper()
	var last string
	deadline := time.Now().Add(refWait)
	for time.Now().Before(deadline) {
		out, err := l.try(l.nodes[0], "service", "inspect", "--format", "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}", svc)
		if err == nil {
			switch last = strings.TrimSpace(out); last {
			case "", "completed":
				return time.Now()
			}
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.logService(svc)
	l.t.Fatalf("update of %s never completed; last state %q", svc, last)
	return time.Time{}
}

// logService logs the service's update status and every task with its
// error, for a roll that never finished.
func (l *swarmLab) logService(svc string) {
	for _, args := range [][]string{
		{"service", "inspect", "--format", "{{json .UpdateStatus}}", svc},
		{"service", "ps", "--no-trunc", "--format", "{{.Name}} {{.Image}} {{.Node}} desired={{.DesiredState}} {{.CurrentState}} {{.Error}}", svc},
	} {
		out, err := l.try(l.nodes[0], args...)
		l.t.Logf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
