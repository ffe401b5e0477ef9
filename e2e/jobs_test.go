package e2e

import (
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

	bad := k.file("always.yaml", jobManifest("always", "", "Always", "true"))
	if out := k.fails("apply", "-f", bad); !strings.Contains(out, "spec.template.spec.restartPolicy") {
		t.Fatalf("a Job with restartPolicy Always:\n%s", out)
	}

	k.ok("apply", "-f", k.file("pi.yaml", jobManifest("pi", "  completions: 3\n  parallelism: 2\n", "Never", "echo done")))
	if out := k.ok("wait", "--for=condition=complete", "job/pi", "--timeout=3m"); !strings.Contains(out, "job.batch/pi condition met") {
		t.Fatalf("kubectl wait:\n%s", out)
	}
	kubeMatch(t, k.ok("get", "jobs"), kubeRow("pi", "Complete", "3/3"))
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
