package e2e

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// rolloutManifest is a Deployment "roll" of 3 replicas of the test image.
const rolloutManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: roll
spec:
  replicas: 3
  selector:
    matchLabels: {app: roll}
  strategy:
    rollingUpdate: {maxUnavailable: 1, maxSurge: 1}
  template:
    metadata:
      labels: {app: roll}
    spec:
      terminationGracePeriodSeconds: 1 # sleep ignores SIGTERM: replaced pods go at once
      containers:
      - name: main
        image: ` + image + `
        command: [sleep, "100000"]
`

// TestDeploymentRollouts drives the rollout verbs through the machine's
// kubectl: pause holds a new template back (the Progressing condition
// says DeploymentPaused), resume rolls it out, undo brings the previous
// template back as a new revision, and restart replaces every pod with
// the same template.
func TestDeploymentRollouts(t *testing.T) {
	k := startKubectlFleet(t)
	const image2 = "shoal.local/busybox:2"
	archive := filepath.Join(t.TempDir(), "busybox2.tar")
	k.run("image", "build-busybox", "-o", archive, "--ref", image2)
	k.run("image", "import", archive)

	k.ok("apply", "-f", k.file("roll.yaml", rolloutManifest))
	k.ok("rollout", "status", "deployment/roll", "--timeout=3m")
	rolled := func(want string) {
		t.Helper()
		out := k.ok("rollout", "status", "deployment/roll", "--timeout=3m")
		if !strings.Contains(out, `deployment "roll" successfully rolled out`) {
			t.Fatalf("rollout status:\n%s", out)
		}
		k.eventually("every pod of roll on "+want, func(out string) bool {
			imgs := strings.Fields(out)
			if len(imgs) != 3 {
				return false
			}
			for _, img := range imgs {
				if img != want {
					return false
				}
			}
			return true
		}, "get", "pods", "-l", "app=roll", "--field-selector=status.phase=Running", "-o", `jsonpath={range .items[*]}{.spec.containers[0].image}{" "}{end}`)
	}
	rolled(image)

	// Paused: the new template is recorded (observedGeneration catches
	// up) but no ReplicaSet is made for it.
	k.ok("rollout", "pause", "deployment/roll")
	k.ok("set", "image", "deployment/roll", "main="+image2)
	k.eventually("the paused Deployment observed", func(out string) bool {
		f := strings.Fields(out)
		return len(f) == 3 && f[0] == f[1] && f[2] == "DeploymentPaused"
	}, "get", "deployment", "roll", "-o", `jsonpath={.metadata.generation} {.status.observedGeneration} {.status.conditions[?(@.type=="Progressing")].reason}`)
	if out := k.ok("get", "rs", "-l", "app=roll", "-o", "name"); len(strings.Fields(out)) != 1 {
		t.Fatalf("replica sets while paused:\n%s", out)
	}
	k.ok("rollout", "resume", "deployment/roll")
	rolled(image2)

	history := k.ok("rollout", "history", "deployment/roll")
	if !strings.Contains(history, "1 ") || !strings.Contains(history, "2 ") {
		t.Fatalf("rollout history after one update:\n%s", history)
	}
	k.ok("rollout", "undo", "deployment/roll")
	rolled(image)
	if out := k.ok("get", "deployment", "roll", "-o", `jsonpath={.metadata.annotations.deployment\.kubernetes\.io/revision}`); strings.TrimSpace(out) != "3" {
		t.Fatalf("revision after undo: %q, want 3 (the first template as a new revision)", out)
	}

	podUIDs := func() []string {
		uids := strings.Fields(k.ok("get", "pods", "-l", "app=roll", "--field-selector=status.phase=Running", "-o", `jsonpath={range .items[*]}{.metadata.uid}{" "}{end}`))
		sort.Strings(uids)
		return uids
	}
	before := podUIDs()
	k.ok("rollout", "restart", "deployment/roll")
	rolled(image)
	k.eventually("every pod replaced by the restart", func(out string) bool {
		now := strings.Fields(out)
		if len(now) != 3 {
			return false
		}
		for _, u := range now {
			for _, b := range before {
				if u == b {
					return false
				}
			}
		}
		return true
	}, "get", "pods", "-l", "app=roll", "--field-selector=status.phase=Running", "-o", `jsonpath={range .items[*]}{.metadata.uid}{" "}{end}`)
	if out := k.ok("get", "deployment", "roll", "-o", `jsonpath={.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}`); strings.TrimSpace(out) == "" {
		t.Fatal("the restarted template carries no kubectl.kubernetes.io/restartedAt")
	}
}
