package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Graceful pod deletion as Kubernetes does it (issue 20 item 5, issue 18
// item 7): a deleted pod shows Terminating (metadata.deletionTimestamp)
// while its node runs preStop, sends SIGTERM and SIGKILLs at the grace
// period; --grace-period=0 --force removes it at once; postStart runs as a
// container starts and a failing one kills it. The assertions are on the
// states observed; each wait's deadline only bounds a broken fleet.
func TestGracefulPodDeletion(t *testing.T) {
	k := startKubectlFleet(t)
	k.t = t

	// A pod whose shell traps TERM: its preStop hook speaks first, then
	// the trap, and it exits on SIGTERM long before its 10-minute grace.
	trapPod := `apiVersion: v1
kind: Pod
metadata: {name: trap}
spec:
  terminationGracePeriodSeconds: 600
  containers:
  - name: main
    image: ` + image + `
    command: ["sh", "-c", "trap 'echo got TERM; exit 0' TERM; echo started; while true; do sleep 1; done"]
    lifecycle:
      preStop:
        exec: {command: ["sh", "-c", "echo preStop ran > /proc/1/fd/1"]}
`
	// busybox sleep as PID 1 ignores SIGTERM: only SIGKILL at the
	// grace of 3 seconds stops it.
	sleepPod := func(name string, grace int) string {
		g := ""
		if grace >= 0 {
			g = "  terminationGracePeriodSeconds: " + strconv.Itoa(grace) + "\n"
		}
		return `apiVersion: v1
kind: Pod
metadata: {name: ` + name + `}
spec:
` + g + `  containers:
  - name: main
    image: ` + image + `
    command: ["sleep", "3600"]
`
	}

	t.Run("a pod that traps TERM runs preStop, then exits on SIGTERM", func(t *testing.T) {
		k.t = t
		k.ok("apply", "-f", k.file("trap.yaml", trapPod))
		k.eventually("trap Running", kubeRow("trap", "1/1", "Running").MatchString, "get", "pod", "trap")
		k.eventually("trap started", kubeContains("started"), "logs", "trap")
		logs := k.follow(t, "logs", "-f", "trap")
		out := k.ok("delete", "pod", "trap", "--wait=false")
		if !strings.Contains(out, `pod "trap" deleted`) {
			t.Fatalf("delete:\n%s", out)
		}
		logs.waitFor(t, "preStop ran", "got TERM")
		if i, j := strings.Index(logs.text(), "preStop ran"), strings.Index(logs.text(), "got TERM"); i > j {
			t.Errorf("SIGTERM came before preStop:\n%s", logs.text())
		}
		// Gone well within its 600 s grace: it exited on SIGTERM.
		k.eventually("trap gone", func(out string) bool { return strings.TrimSpace(out) == "" }, "get", "pod", "trap", "--ignore-not-found")
	})

	t.Run("terminationGracePeriodSeconds: Terminating, then SIGKILL, then DELETED", func(t *testing.T) {
		k.t = t
		k.ok("apply", "-f", k.file("sleeper.yaml", sleepPod("sleeper", 3)))
		k.eventually("sleeper Running", kubeRow("sleeper", "1/1", "Running").MatchString, "get", "pod", "sleeper")
		watch := k.follow(t, "get", "pod", "sleeper", "-w", "--output-watch-events")
		watch.waitFor(t, "ADDED")
		k.ok("delete", "pod", "sleeper", "--wait=false")
		if out, err := k.try("get", "pod", "sleeper", "-o", "jsonpath={.metadata.deletionGracePeriodSeconds} {.metadata.deletionTimestamp}"); err == nil &&
			!regexp.MustCompile(`^3 \d{4}-`).MatchString(out) {
			t.Errorf("right after the delete: deletionGracePeriodSeconds and deletionTimestamp %q, want 3 and a time", out)
		}
		watch.waitFor(t, "DELETED")
		terminating, deleted := -1, -1
		for i, l := range strings.Split(watch.text(), "\n") {
			switch {
			case kubeRow("MODIFIED", "sleeper", `\d/1`, "Terminating").MatchString(l) && terminating < 0:
				terminating = i
			case kubeRow("DELETED", "sleeper").MatchString(l):
				deleted = i
			}
		}
		if terminating < 0 || deleted < terminating {
			t.Fatalf("want a MODIFIED event showing Terminating before DELETED; the watch saw:\n%s", watch.text())
		}
		k.eventually("a Killing event for sleeper", func(out string) bool {
			return regexp.MustCompile(`(?m)Killing.*sleeper|sleeper.*Killing`).MatchString(out)
		}, "get", "events")
	})

	t.Run("--grace-period=0 --force removes at once", func(t *testing.T) {
		k.t = t
		k.ok("apply", "-f", k.file("stubborn.yaml", sleepPod("stubborn", -1)))
		k.eventually("stubborn Running", kubeRow("stubborn", "1/1", "Running").MatchString, "get", "pod", "stubborn")
		k.ok("delete", "pod", "stubborn", "--grace-period=0", "--force")
		if out := k.fails("get", "pod", "stubborn"); !strings.Contains(out, "NotFound") && !strings.Contains(out, "not found") {
			t.Fatalf("after a forced delete:\n%s", out)
		}
	})

	t.Run("a replica set replaces a terminating pod at once", func(t *testing.T) {
		k.t = t
		rs := `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: slow}
spec:
  replicas: 1
  selector: {matchLabels: {app: slow}}
  template:
    metadata: {labels: {app: slow}}
    spec:
      terminationGracePeriodSeconds: 600
      containers:
      - name: main
        image: ` + image + `
        command: ["sleep", "3600"]
`
		k.ok("apply", "-f", k.file("rs.yaml", rs))
		out := k.eventually("one slow pod Running", kubeRow(`slow-\S+`, "1/1", "Running").MatchString, "get", "pods", "-l", "app=slow")
		old := strings.Fields(kubeRow(`slow-\S+`).FindString(out))[0]
		k.ok("delete", "pod", old, "--wait=false")
		k.eventually("a replacement Running while the old pod is Terminating", func(out string) bool {
			return kubeRow(old, `\d/1`, "Terminating").MatchString(out) && strings.Count(out, "Running") == 1
		}, "get", "pods", "-l", "app=slow")
		k.ok("delete", "rs", "slow")
	})

	t.Run("postStart runs after the start; a failing one kills the container", func(t *testing.T) {
		k.t = t
		hooks := `apiVersion: v1
kind: Pod
metadata: {name: hooks}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ` + image + `
    command: ["sleep", "3600"]
    lifecycle:
      postStart:
        exec: {command: ["sh", "-c", "echo hooked > /tmp/poststart"]}
  - name: failing
    image: ` + image + `
    command: ["sleep", "3600"]
    lifecycle:
      postStart:
        exec: {command: ["sh", "-c", "exit 3"]}
`
		k.ok("apply", "-f", k.file("hooks.yaml", hooks))
		k.eventually("postStart's file", kubeContains("hooked"), "exec", "hooks", "-c", "main", "--", "cat", "/tmp/poststart")
		k.eventually("the failing postStart's container restarted", func(out string) bool { return out != "" && out != "0" },
			"get", "pod", "hooks", "-o", `jsonpath={.status.containerStatuses[?(@.name=="failing")].restartCount}`)
		k.eventually("a FailedPostStartHook event", kubeContains("FailedPostStartHook"), "get", "events")
		k.ok("delete", "pod", "hooks")
	})
}

// followed is the output of a kubectl command that runs until the test
// ends (logs -f, get -w).
type followed struct {
	mu  sync.Mutex
	buf strings.Builder
	got chan struct{}
}

func (k *kubectlFleet) follow(t *testing.T, args ...string) *followed {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, k.kubectl, args...)
	cmd.Env = append(os.Environ(), k.env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f := &followed{got: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f.mu.Lock()
			f.buf.WriteString(sc.Text() + "\n")
			f.mu.Unlock()
			select {
			case f.got <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { cancel(); _ = cmd.Wait(); <-done })
	return f
}

func (f *followed) text() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.buf.String()
}

// waitFor waits until the output holds every string.
func (f *followed) waitFor(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.After(90 * time.Second)
	for {
		if kubeContains(want...)(f.text()) {
			return
		}
		select {
		case <-f.got:
		case <-time.After(time.Second):
		case <-deadline:
			t.Fatalf("never saw %q; got:\n%s", want, f.text())
		}
	}
}
