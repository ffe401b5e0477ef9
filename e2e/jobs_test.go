package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func jobManifest(name, extra, restart, script string) string {
	return `apiVersion: batch/v1
kind: Job
metadata:
  name: ` + name + `
spec:
` + extra + `  template:
    spec:
      restartPolicy: ` + restart + `
      containers:
      - name: main
        image: ` + image + `
        command: ["sh", "-c", "` + script + `"]
`
}

// TestJobs drives Jobs through the machine's kubectl: a Job of three
// completions two at a time completes and kubectl wait returns; kubectl
// create job, get, describe and logs; a failing Job ends Failed past its
// backoffLimit, a slow one past its activeDeadlineSeconds; deleting a Job
// takes its pods.
func TestJobs(t *testing.T) {
	k := startKubectlFleet(t)
	out := k.ok("api-resources")
	kubeMatch(t, out, kubeRow("jobs", "batch/v1", "true", "Job"))
	kubeMatch(t, out, kubeRow("cronjobs", "cj", "batch/v1", "true", "CronJob"))

	bad := k.file("always.yaml", jobManifest("always", "", "Always", "true"))
	if out := k.fails("apply", "-f", bad); !strings.Contains(out, "spec.template.spec.restartPolicy") {
		t.Fatalf("a Job with restartPolicy Always:\n%s", out)
	}

	k.ok("apply", "-f", k.file("pi.yaml", jobManifest("pi", "  completions: 3\n  parallelism: 2\n", "Never", "echo done")))
	if out := k.ok("wait", "--for=condition=complete", "job/pi", "--timeout=3m"); !strings.Contains(out, "job.batch/pi condition met") {
		t.Fatalf("kubectl wait:\n%s", out)
	}
	kubeMatch(t, k.ok("get", "jobs"), kubeRow("pi", "Complete", "3/3"))
	// A re-applied manifest may change parallelism, not the template.
	if out := k.ok("apply", "-f", k.file("pi.yaml", jobManifest("pi", "  completions: 3\n  parallelism: 3\n", "Never", "echo done"))); !strings.Contains(out, "job.batch/pi configured") {
		t.Fatalf("re-apply with parallelism 3:\n%s", out)
	}
	if out := k.fails("apply", "-f", k.file("pi.yaml", jobManifest("pi", "  completions: 3\n  parallelism: 3\n", "Never", "echo other"))); !strings.Contains(out, "spec.template") || !strings.Contains(out, "immutable") {
		t.Fatalf("re-apply with another command:\n%s", out)
	}
	pods := k.ok("get", "pods", "-l", "job-name=pi", "-o", "jsonpath={range .items[*]}{.status.phase}{\"\\n\"}{end}")
	if n := strings.Count(pods, "Succeeded"); n != 3 || strings.Count(pods, "\n") != 3 {
		t.Fatalf("pods of job pi (phases):\n%s", pods)
	}
	if out := k.ok("describe", "job", "pi"); !strings.Contains(out, "0 Active") || !strings.Contains(out, "3 Succeeded") ||
		!strings.Contains(out, "batch.kubernetes.io/controller-uid=") {
		t.Fatalf("kubectl describe job:\n%s", out)
	}

	if out := k.ok("create", "job", "hello", "--image="+image, "--", "sh", "-c", "echo hello from a job"); !strings.Contains(out, "job.batch/hello created") {
		t.Fatalf("kubectl create job:\n%s", out)
	}
	k.ok("wait", "--for=condition=complete", "job/hello", "--timeout=3m")
	if out := k.ok("logs", "job/hello"); !strings.Contains(out, "hello from a job") {
		t.Fatalf("kubectl logs job/hello:\n%s", out)
	}

	k.ok("apply", "--server-side", "-f", k.file("fail.yaml", jobManifest("fail", "  backoffLimit: 1\n", "Never", "exit 3")))
	k.ok("wait", "--for=condition=failed", "job/fail", "--timeout=3m")
	if out := k.ok("get", "job", "fail", "-o", `jsonpath={.status.failed} {.status.conditions[?(@.type=="Failed")].reason}`); out != "2 BackoffLimitExceeded" {
		t.Fatalf("failed job (failed pods, reason): %q, want 2 BackoffLimitExceeded", out)
	}
	kubeMatch(t, k.ok("get", "job", "fail"), kubeRow("fail", "Failed", "0/1"))

	k.ok("apply", "-f", k.file("slow.yaml", jobManifest("slow", "  activeDeadlineSeconds: 5\n", "Never", "sleep 1000")))
	k.ok("wait", "--for=condition=failed", "job/slow", "--timeout=3m")
	if out := k.ok("get", "job", "slow", "-o", `jsonpath={.status.conditions[?(@.type=="Failed")].reason}`); out != "DeadlineExceeded" {
		t.Fatalf("job past its deadline: reason %q, want DeadlineExceeded", out)
	}
	k.eventually("no pod of job slow left", func(out string) bool { return strings.TrimSpace(out) == "" },
		"get", "pods", "-l", "job-name=slow", "-o", "name")

	k.ok("delete", "job", "pi")
	k.eventually("no pod of job pi left", func(out string) bool { return strings.TrimSpace(out) == "" },
		"get", "pods", "-l", "job-name=pi", "-o", "name")
	k.ok("delete", "job", "hello", "--cascade=orphan")
	if out := k.ok("get", "pods", "-l", "job-name=hello", "-o", "name"); strings.Count(out, "pod/hello-") != 1 {
		t.Fatalf("pods of job hello after an orphaning delete:\n%s", out)
	}
}

// TestCronJobs drives a CronJob through the machine's kubectl: create
// cronjob, a Job made by hand from it, the Job its minutely schedule
// makes, get all, and a delete that takes its Jobs.
func TestCronJobs(t *testing.T) {
	k := startKubectlFleet(t)
	if out := k.ok("create", "cronjob", "tick", "--image="+image, "--schedule=*/1 * * * *", "--", "sh", "-c", "echo tick"); !strings.Contains(out, "cronjob.batch/tick created") {
		t.Fatalf("kubectl create cronjob:\n%s", out)
	}
	kubeMatch(t, k.ok("get", "cronjobs"), kubeRow("tick", `\*/1 \* \* \* \*`, "<none>", "False"))

	k.ok("create", "job", "by-hand", "--from=cronjob/tick")
	k.ok("wait", "--for=condition=complete", "job/by-hand", "--timeout=3m")

	// The schedule's first minute comes within 60 s of the create.
	var scheduled string
	deadline := time.Now().Add(150 * time.Second)
	for scheduled == "" && time.Now().Before(deadline) {
		for _, name := range strings.Fields(k.ok("get", "jobs", "-o", "name")) {
			if strings.HasPrefix(name, "job.batch/tick-") {
				scheduled = name
			}
		}
		time.Sleep(time.Second)
	}
	if scheduled == "" {
		t.Fatalf("no scheduled job within 150 s:\n%s", k.ok("get", "cronjob", "tick", "-o", "yaml"))
	}
	k.ok("wait", "--for=condition=complete", scheduled, "--timeout=3m")
	k.eventually("the last successful time", func(out string) bool { return strings.Count(out, "T") == 2 },
		"get", "cronjob", "tick", "-o", "jsonpath={.status.lastScheduleTime} {.status.lastSuccessfulTime}")
	if out := k.ok("get", "all"); !strings.Contains(out, "cronjob.batch/tick") || !strings.Contains(out, scheduled) {
		t.Fatalf("kubectl get all:\n%s", out)
	}

	k.ok("delete", "cronjob", "tick")
	k.eventually("no job of cronjob tick left", func(out string) bool { return !strings.Contains(out, "tick-") && !strings.Contains(out, "by-hand") },
		"get", "jobs", "-o", "name")
}

// TestJobPodsOfALostNodeAreReplaced kills the client node that runs one of
// a Job's two pods: once the fleet declares it lost, the pod is deleted
// and the Job runs a new one on the node left.
func TestJobPodsOfALostNodeAreReplaced(t *testing.T) {
	k := startKubectlFleet(t)
	// kubectl talks to n1 from here on: n2 is the one to lose.
	k.env[0] = "KUBECONFIG=" + filepath.Join(k.dir, "lab-kubeconfig")
	k.ok("apply", "-f", k.file("long.yaml", jobManifest("long", "  completions: 2\n  parallelism: 2\n", "Never", "sleep 100000")))
	nodesOf := func(out string) map[string]string { // pod name -> node, Running pods only
		m := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[1] == "Running" {
				m[f[0]] = f[2]
			}
		}
		return m
	}
	list := []string{"get", "pods", "-l", "job-name=long", "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.spec.nodeName}{"\n"}{end}`}
	before := nodesOf(k.eventually("two running pods", func(out string) bool { return len(nodesOf(out)) == 2 }, list...))
	var lost string
	for pod, node := range before {
		if node == "n2" {
			lost = pod
		}
	}
	if lost == "" {
		t.Fatalf("no pod of the job on n2 to lose: %v", before)
	}
	k.run("lab", "kill", k.name, "n2", "--state-root", k.stateRoot)
	after := nodesOf(k.eventually("two running pods on n1 without the lost one", func(out string) bool {
		return len(nodesOf(out)) == 2 && !strings.Contains(out, lost)
	}, list...))
	for pod, node := range after {
		if node != "n1" {
			t.Fatalf("pod %s on %s after n2 was lost: %v", pod, node, after)
		}
	}
	if out := k.ok("get", "job", "long", "-o", "jsonpath={.status.active} {.status.failed}"); strings.TrimSpace(out) != "2" {
		t.Fatalf("job status (active failed) after the loss: %q, want 2 active and no failure", out)
	}
	k.ok("delete", "job", "long")
}
