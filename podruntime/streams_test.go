package podruntime

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

func TestExecRunsInContainerWithExitCodeAndStreams(t *testing.T) {
	r := newTestRuntime(t)
	netns := newNetns(t)
	pod := newPod(t, "execme", api.RestartAlways, shell("main", imageV1, "echo hi > /tmp/mark; sleep 3600"))
	syncUntil(t, r, pod, netns, "running", func(st api.PodStatus) bool { return running(st, "main") })
	ctx := context.Background()
	uid := pod.ObjectMeta.UID

	var out, errb bytes.Buffer
	code, err := r.Exec(ctx, string(uid), "main", ExecOptions{
		Command: []string{"sh", "-c", "cat /tmp/mark; hostname; echo oops >&2; exit 3"},
		Stdout:  &out, Stderr: &errb,
	})
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	if code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
	// The file written by the container's own process is visible: same mount namespace.
	if got := out.String(); got != "hi\nexecme\n" {
		t.Errorf("stdout %q, want the container's file and the pod's hostname", got)
	}
	if got := errb.String(); got != "oops\n" {
		t.Errorf("stderr %q, want oops", got)
	}

	out.Reset()
	code, err = r.Exec(ctx, string(uid), "main", ExecOptions{Command: []string{"cat"}, Stdin: strings.NewReader("from stdin\n"), Stdout: &out})
	if err != nil || code != 0 {
		t.Fatalf("Exec cat: code %d err %v", code, err)
	}
	if out.String() != "from stdin\n" {
		t.Errorf("cat echoed %q", out.String())
	}

	// With a terminal the command reads a line from it, and its output has
	// the terminal's line endings.
	out.Reset()
	code, err = r.Exec(ctx, string(uid), "main", ExecOptions{
		Command: []string{"sh", "-c", "read x; echo got $x; exit 5"}, TTY: true,
		Stdin: strings.NewReader("typed\n"), Stdout: &out,
	})
	if err != nil || code != 5 {
		t.Fatalf("Exec with a terminal: code %d err %v, output %q", code, err, out.String())
	}
	if !strings.Contains(out.String(), "got typed\r\n") {
		t.Errorf("terminal output %q, want the line read back with CRLF", out.String())
	}

	if _, err := r.Exec(ctx, string(uid), "nosuch", ExecOptions{Command: []string{"true"}}); !errors.Is(err, ErrNoContainer) {
		t.Errorf("exec in a missing container: %v, want ErrNoContainer", err)
	}
}

// syncWriter lets the test read what a follower wrote while it writes.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestLogsTailFollowAndPrevious(t *testing.T) {
	r := newTestRuntime(t)
	ctx := context.Background()
	// Each instance prints its own number, then waits for a file to appear
	// before printing more and exiting, so the test controls the timing.
	script := `n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/n
for i in 1 2 3; do echo "run$n line$i"; done
while [ ! -e /tmp/go$n ]; do sleep 0.1; done
echo "run$n after"; exit 1`
	pod := newPod(t, "logger", api.RestartAlways, shell("main", imageV1, script))
	uid := pod.ObjectMeta.UID
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "main") })
	waitLog(t, r.LogPath(string(uid), "main"), "run1 line3\n")

	var tail bytes.Buffer
	if err := r.Logs(ctx, string(uid), "main", LogOptions{TailLines: 2}, &tail); err != nil {
		t.Fatalf("Logs tail: %v", err)
	}
	if tail.String() != "run1 line2\nrun1 line3\n" {
		t.Errorf("tail 2 = %q", tail.String())
	}
	if err := r.Logs(ctx, string(uid), "main", LogOptions{Previous: true, TailLines: -1}, &tail); !errors.Is(err, ErrNoLog) {
		t.Errorf("previous before any restart: %v, want ErrNoLog", err)
	}

	// Follow receives a line written after it started, and ends when the
	// container exits.
	w := &syncWriter{}
	done := make(chan error, 1)
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	go func() { done <- r.Logs(fctx, string(uid), "main", LogOptions{Follow: true, TailLines: -1}, w) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(w.String(), "run1 line3") {
		if time.Now().After(deadline) {
			t.Fatalf("follower wrote %q", w.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := r.Exec(ctx, string(uid), "main", ExecOptions{Command: []string{"touch", "/tmp/go1"}}); err != nil {
		t.Fatalf("exec touch: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("follow: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("follow did not end when the container exited")
	}
	if !strings.HasSuffix(w.String(), "run1 after\n") {
		t.Errorf("follower got %q, want it to end with the line written after it started", w.String())
	}

	// The restart starts a new log; the first instance's is --previous.
	syncUntil(t, r, pod, "", "restarted", func(st api.PodStatus) bool {
		return running(st, "main") && st.ContainerStatuses[0].RestartCount == 1
	})
	waitLog(t, r.LogPath(string(uid), "main"), "run2 line3\n")
	var prev, cur bytes.Buffer
	if err := r.Logs(ctx, string(uid), "main", LogOptions{Previous: true, TailLines: -1}, &prev); err != nil {
		t.Fatalf("Logs previous: %v", err)
	}
	if want := "run1 line1\nrun1 line2\nrun1 line3\nrun1 after\n"; prev.String() != want {
		t.Errorf("previous = %q, want %q", prev.String(), want)
	}
	if err := r.Logs(ctx, string(uid), "main", LogOptions{TailLines: -1}, &cur); err != nil {
		t.Fatalf("Logs: %v", err)
	}
	if strings.Contains(cur.String(), "run1") || !strings.Contains(cur.String(), "run2 line1") {
		t.Errorf("current = %q, want only the second run", cur.String())
	}

	// Rotation moves whole lines aside; the agent keeps appending to the
	// truncated file, and Logs shows both parts in order.
	if err := r.RotateLogs(1); err != nil {
		t.Fatalf("RotateLogs: %v", err)
	}
	if _, err := r.Exec(ctx, string(uid), "main", ExecOptions{Command: []string{"touch", "/tmp/go2"}}); err != nil {
		t.Fatalf("exec touch: %v", err)
	}
	waitLog(t, r.LogPath(string(uid), "main"), "run2 after\n")
	live, err := os.ReadFile(r.LogPath(string(uid), "main"))
	if err != nil || logContent(t, live) != "run2 after\n" {
		t.Errorf("live file after rotation %q (%v), want only the new line (no hole, no old lines)", live, err)
	}
	rotated, err := os.ReadFile(r.LogPath(string(uid), "main") + rotatedSuffix)
	if err != nil || logContent(t, rotated) != "run2 line1\nrun2 line2\nrun2 line3\n" {
		t.Errorf("rotated file %q (%v)", rotated, err)
	}
	var all bytes.Buffer
	if err := r.Logs(ctx, string(uid), "main", LogOptions{TailLines: -1}, &all); err != nil {
		t.Fatalf("Logs: %v", err)
	}
	if want := "run2 line1\nrun2 line2\nrun2 line3\nrun2 after\n"; all.String() != want {
		t.Errorf("logs across rotation = %q, want %q", all.String(), want)
	}
}

// logContent is what a CRI log file says, every line a record.
func logContent(t *testing.T, b []byte) string {
	t.Helper()
	recs, rest := parseCRILog(b)
	var out bytes.Buffer
	for _, rec := range recs {
		if rec.time.IsZero() {
			t.Errorf("log line %q is not a CRI record", rec.content)
		}
	}
	if err := (&recordWriter{}).write(&out, recs); err != nil {
		t.Fatal(err)
	}
	return out.String() + string(rest)
}

func TestLastLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int64
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\nc\n", 5, "a\nb\nc\n"},
		{"a\nb\nc\n", 0, ""},
		{"", 3, ""},
	} {
		if got := string(lastLines([]byte(tc.in), tc.n)); got != tc.want {
			t.Errorf("lastLines(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
