package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/deploy/lab"
)

// talkPod prints a line, serves a page with busybox httpd on 8080 and
// keeps running.
const talkPod = `apiVersion: v1
kind: Pod
metadata:
  name: talk
spec:
  containers:
  - name: main
    image: shoal.local/busybox:1
    command: ["sh", "-c", "mkdir -p /www && echo page > /www/index.html && httpd -p 8080 -h /www && echo started && exec sleep 100000"]
`

// lockedBuffer collects a background command's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// background starts the CLI and stops it at the end of the test.
func (f *fleet) background(args ...string) *lockedBuffer {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, f.bin, args...)
	cmd.Env = append(os.Environ(), f.env...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		f.t.Fatalf("start shoal %v: %v", args, err)
	}
	f.t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	return out
}

// eventually polls fn until it returns "" (done) or the deadline passes;
// the deadline bounds a broken fleet (a restarted seed node takes half a
// minute to be gossiped back in), it is not a speed assertion.
func eventually(t *testing.T, what string, fn func() string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	last := ""
	for time.Now().Before(deadline) {
		if last = fn(); last == "" {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("%s never happened; last: %s", what, last)
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestLogsExecPortForwardAndAgentRestart(t *testing.T) {
	f := startFleet(t, labName("pb"), "--nodes", "3")
	f.importBusybox()
	f.apply(talkPod)
	p := f.waitPod("talk", "Running", running)
	eventually(t, "the container's first line in shoal logs", func() string {
		if out, _ := f.try("logs", "talk"); out != "started\n" {
			return out
		}
		return ""
	})

	t.Run("describe shows the pod's events", func(t *testing.T) {
		var out string
		eventually(t, "Scheduled and Started in shoal describe", func() string {
			out = f.run("describe", "pod", "talk")
			for _, re := range []*regexp.Regexp{
				regexp.MustCompile(`(?m)^\s+Normal\s+Scheduled\s+\S+\s+shoal-scheduler\s+Successfully assigned default/talk to ` + p.Spec.NodeName + `$`),
				regexp.MustCompile(`(?m)^\s+Normal\s+Started\s+\S+\s+shoal-node, ` + p.Spec.NodeName + `\s+`),
			} {
				if !re.MatchString(out) {
					return "no line matching " + re.String() + " in:\n" + out
				}
			}
			return ""
		})
		for _, want := range []string{"Name:             talk", "Status:           Running", "IP:               " + p.Status.PodIP, "    State:          Running", "    Restart Count:  0"} {
			if !strings.Contains(out, want) {
				t.Errorf("describe lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("logs -f receives a line written after it started", func(t *testing.T) {
		follow := f.background("logs", "talk", "-f")
		eventually(t, "the follower's first line", func() string {
			if s := follow.String(); !strings.Contains(s, "started") {
				return s
			}
			return ""
		})
		f.run("exec", "talk", "--", "sh", "-c", "echo later-line > /proc/1/fd/1")
		eventually(t, "the later line at the follower", func() string {
			if s := follow.String(); s != "started\nlater-line\n" {
				return fmt.Sprintf("%q", s)
			}
			return ""
		})
		if out := f.run("logs", "talk", "--tail", "1"); out != "later-line\n" {
			t.Errorf("logs --tail 1 = %q", out)
		}
	})

	t.Run("exec passes output, stdin and the exit code through", func(t *testing.T) {
		if out := f.run("exec", "talk", "--", "cat", "/www/index.html"); out != "page\n" {
			t.Errorf("exec cat = %q, want page", out)
		}
		out, err := f.try("exec", "talk", "--", "sh", "-c", "echo to-stderr >&2; exit 3")
		if code := exitCode(err); code != 3 {
			t.Errorf("exec exit 3: exit code %d (%v), output %q", code, err, out)
		}
		if !strings.Contains(out, "to-stderr") {
			t.Errorf("exec stderr not passed through: %q", out)
		}
		cmd := exec.Command(f.bin, "exec", "-i", "talk", "--", "tr", "a-z", "A-Z")
		cmd.Env = append(os.Environ(), f.env...)
		cmd.Stdin = strings.NewReader("shout\n")
		got, err := cmd.Output()
		if err != nil || string(got) != "SHOUT\n" {
			t.Errorf("exec -i tr = %q, %v", got, err)
		}
		if out, err := f.try("exec", "talk", "-c", "nosuch", "--", "true"); err == nil || !strings.Contains(out, "container nosuch is not valid") {
			t.Errorf("exec into a missing container: %v %q", err, out)
		}
	})

	t.Run("port-forward binds loopback and reaches the pod's port", func(t *testing.T) {
		local := freePort(t)
		pf := f.background("port-forward", "talk", fmt.Sprintf("%d:8080", local))
		eventually(t, "the page through port-forward", func() string {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/index.html", local))
			if err != nil {
				return err.Error() + "; port-forward said: " + pf.String()
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if string(b) != "page\n" {
				return fmt.Sprintf("body %q", b)
			}
			return ""
		})
		if !strings.Contains(pf.String(), fmt.Sprintf("127.0.0.1:%d", local)) {
			t.Errorf("port-forward did not say it listens on 127.0.0.1: %q", pf.String())
		}
	})

	t.Run("kubectl logs and exec with its exit code", func(t *testing.T) {
		kubectl, err := exec.LookPath("kubectl")
		if err != nil {
			t.Skip("kubectl not installed")
		}
		kc := filepath.Join(t.TempDir(), "kubeconfig")
		if err := os.WriteFile(kc, []byte(f.run("kubeconfig")), 0o600); err != nil {
			t.Fatal(err)
		}
		k := func(args ...string) (string, error) {
			cmd := exec.Command(kubectl, args...)
			cmd.Env = append(os.Environ(), "KUBECONFIG="+kc)
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		if out, err := k("logs", "talk", "--tail", "1"); err != nil || out != "later-line\n" {
			t.Errorf("kubectl logs = %q, %v", out, err)
		}
		out, err := k("exec", "talk", "--", "sh", "-c", "echo hi; exit 4")
		if code := exitCode(err); code != 4 || !strings.HasPrefix(out, "hi\n") {
			t.Errorf("kubectl exec: exit code %d, output %q", code, out)
		}
		// kubectl logs -f: the stream stays open and carries a later line.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		follow := exec.CommandContext(ctx, kubectl, "logs", "-f", "talk", "-c", "main")
		follow.Env = append(os.Environ(), "KUBECONFIG="+kc)
		followed := &lockedBuffer{}
		follow.Stdout, follow.Stderr = followed, followed
		if err := follow.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cancel(); _ = follow.Wait() }()
		eventually(t, "kubectl logs -f prints what was there", func() string {
			if s := followed.String(); !strings.Contains(s, "later-line") {
				return fmt.Sprintf("%q", s)
			}
			return ""
		})
		if _, err := k("exec", "talk", "--", "sh", "-c", "echo kubectl-follow-line > /proc/1/fd/1"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "kubectl logs -f prints a line written after it started", func() string {
			if s := followed.String(); !strings.HasSuffix(s, "later-line\nkubectl-follow-line\n") {
				return fmt.Sprintf("%q", s)
			}
			return ""
		})
	})

	t.Run("kill -9 of the agent leaves the pod running and adopted", func(t *testing.T) {
		node := p.Spec.NodeName
		before := f.run("exec", "talk", "--", "cut", "-d", " ", "-f", "22", "/proc/1/stat")
		startedAt := p.Status.ContainerStatuses[0].State.Running.StartedAt
		l, err := lab.Load(f.stateRoot, f.name)
		if err != nil {
			t.Fatal(err)
		}
		n, err := l.Node(node)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(n.PID, syscall.SIGKILL); err != nil {
			t.Fatalf("kill -9 agent of %s (pid %d): %v", node, n.PID, err)
		}
		eventually(t, "the agent's death", func() string {
			if syscall.Kill(n.PID, 0) == nil {
				if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n.PID)); !strings.Contains(string(b), ") Z ") {
					return "still alive"
				}
			}
			return ""
		})
		f.run("lab", "heal", f.name, node, "--state-root", f.stateRoot)

		// The restarted agent serves the pod's streams again.
		eventually(t, "exec through the restarted agent", func() string {
			if out, err := f.try("exec", "talk", "--", "cat", "/www/index.html"); err != nil || out != "page\n" {
				return fmt.Sprintf("%v %q", err, out)
			}
			return ""
		})
		waitReconciled := func() {
			t.Helper()
			// Wait until the restarted agent's reconciler has made a pass
			// over what it found (its own metrics count the passes): a
			// wrong removal would have happened in it.
			eventually(t, "a reconcile pass of the restarted agent", func() string {
				resp, err := http.Get(n.APIURL() + "/metrics")
				if err != nil {
					return err.Error()
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				for _, line := range strings.Split(string(b), "\n") {
					if strings.HasPrefix(line, "shoal_reconcile_duration_seconds_count ") && !strings.HasSuffix(line, " 0") {
						return ""
					}
				}
				return "no reconcile pass yet"
			})
		}
		waitReconciled()
		after := f.run("exec", "talk", "--", "cut", "-d", " ", "-f", "22", "/proc/1/stat")
		if after != before {
			t.Errorf("the container's process changed across the agent restart: start time %q, then %q", before, after)
		}
		got := f.waitPod("talk", "Running after the restart", running)
		cs := got.Status.ContainerStatuses[0]
		if got.Status.PodIP != p.Status.PodIP {
			t.Errorf("pod IP changed across the agent restart: %s, then %s", p.Status.PodIP, got.Status.PodIP)
		}
		if cs.RestartCount != 0 || !sameTime(cs.State.Running.StartedAt, startedAt) {
			t.Errorf("container restarted with its agent: restartCount %d, startedAt %v (was %v)", cs.RestartCount, cs.State.Running.StartedAt, startedAt)
		}
		if out := f.run("logs", "talk"); !strings.HasPrefix(out, "started\n") {
			t.Errorf("logs after the restart = %q", out)
		}
		if out, err := f.try("exec", "talk", "--", "sh", "-c", "exit 3"); exitCode(err) != 3 {
			t.Errorf("exec exit code after the restart: %v %q", err, out)
		}

		// Once more with the lab's own verb, which does the same.
		f.run("lab", "restart", f.name, node, "--state-root", f.stateRoot)
		waitReconciled()
		eventually(t, "exec through the agent restarted again", func() string {
			if out, err := f.try("exec", "talk", "--", "cut", "-d", " ", "-f", "22", "/proc/1/stat"); err != nil || out != before {
				return fmt.Sprintf("%v %q, want the start time %q", err, out, before)
			}
			return ""
		})
	})
}

func sameTime(a, b api.Time) bool {
	return a.Time.Equal(b.Time)
}
