package podruntime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// readLogs is Logs into a string, failing the test on an error.
func readLogs(t *testing.T, r *Runtime, uid string, opts LogOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.Logs(context.Background(), uid, "main", opts, &b); err != nil {
		t.Fatalf("Logs %+v: %v", opts, err)
	}
	return b.String()
}

// pollLogs reads the logs until ok says yes or a deadline passes.
func pollLogs(t *testing.T, r *Runtime, uid string, opts LogOptions, what string, ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := readLogs(t, r, uid, opts)
		if ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("logs never showed %s; last:\n%s", what, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestLogsCarryEachLinesTimeAndGoOnAfterTheAgentRestarts(t *testing.T) {
	base := newTestRuntime(t) // imports the images; its cleanup removes the pod
	ctx := context.Background()
	cfg := Config{Address: testContainerd.address, Namespace: testNamespace, StateDir: base.stateDir,
		Log: slog.New(slog.NewTextHandler(t.Output(), nil))}
	first, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	script := `echo out1; echo err1 >&2
while [ ! -e /tmp/go ]; do sleep 0.1; done
echo out2
i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.1; done`
	pod := newPod(t, "timed", api.RestartAlways, shell("main", imageV1, script))
	uid := string(pod.ObjectMeta.UID)
	started := time.Now()
	syncUntil(t, first, pod, "", "running", func(st api.PodStatus) bool { return running(st, "main") })
	waitLog(t, first.LogPath(uid, "main"), "err1\n")
	file, err := os.ReadFile(first.LogPath(uid, "main"))
	if err != nil {
		t.Fatal(err)
	}

	// The file holds CRI records with the stream of each line.
	recs, _ := parseCRILog(file)
	streams := map[string]string{}
	for _, rec := range recs {
		streams[string(rec.content)] = rec.stream
		if rec.time.Before(started.Add(-time.Second)) || rec.time.After(time.Now()) {
			t.Errorf("record %q has time %s, outside the test (%s..now)", rec.content, rec.time, started)
		}
	}
	if streams["out1"] != "stdout" || streams["err1"] != "stderr" {
		t.Errorf("streams %v, want out1 on stdout and err1 on stderr; file:\n%s", streams, file)
	}

	// --timestamps puts the line's time first.
	for _, line := range strings.Split(strings.TrimSuffix(readLogs(t, first, uid, LogOptions{TailLines: -1, Timestamps: true}), "\n"), "\n") {
		ts, content, _ := strings.Cut(line, " ")
		tm, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || tm.Before(started.Add(-time.Second)) || tm.After(time.Now()) || (content != "out1" && content != "err1") {
			t.Errorf("timestamped line %q: time %s (%v)", line, tm, err)
		}
	}

	// --since-time leaves out what was written before it.
	mark := time.Now()
	if _, err := first.Exec(ctx, uid, "main", ExecOptions{Command: []string{"touch", "/tmp/go"}}); err != nil {
		t.Fatalf("exec touch: %v", err)
	}
	since := pollLogs(t, first, uid, LogOptions{TailLines: -1, SinceTime: mark}, "out2 since the mark", func(s string) bool { return strings.Contains(s, "out2\n") })
	if strings.Contains(since, "out1") || strings.Contains(since, "err1") || !strings.HasPrefix(since, "out2\n") {
		t.Errorf("since the mark: %q, want it to start at out2", since)
	}

	// The agent stops; the container goes on writing into its FIFO.
	pollLogs(t, first, uid, LogOptions{TailLines: -1}, "tick 2", func(s string) bool { return strings.Contains(s, "tick 2\n") })
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	leftover := filepath.Join(fifosDir(base.stateDir), "gone-main", "x")
	if err := os.MkdirAll(leftover, 0o700); err != nil {
		t.Fatal(err)
	}
	// The next agent finds the running task and goes on with its log, and
	// removes the FIFOs of a container that is gone.
	second, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if _, err := os.Stat(filepath.Dir(leftover)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("FIFOs of a gone container left by New: %v", err)
	}
	after := pollLogs(t, second, uid, LogOptions{TailLines: -1, SinceTime: stopped}, "ticks written after the restart",
		func(s string) bool { return strings.Count(s, "tick") >= 5 })
	all := readLogs(t, second, uid, LogOptions{TailLines: -1})
	last := strings.Fields(after[strings.LastIndex(strings.TrimSuffix(after, "\n"), "\n")+1:])
	n := 0
	if _, err := fmt.Sscanf(strings.Join(last, " "), "tick %d", &n); err != nil {
		t.Fatalf("last line %q: %v", last, err)
	}
	// Not a line lost or cut across the restart. stdout and stderr are
	// two FIFOs: their first lines may come in either order.
	var want strings.Builder
	all = strings.Replace(all, "err1\nout1\n", "out1\nerr1\n", 1)
	want.WriteString("out1\nerr1\nout2\n")
	for i := 0; i <= n; i++ {
		fmt.Fprintf(&want, "tick %d\n", i)
	}
	if !strings.HasPrefix(all, want.String()) {
		t.Errorf("log across the restart:\n%s\nwant it to start with:\n%s", all, want.String())
	}

	// Removing the pod ends the copiers and removes the FIFOs.
	if err := base.RemovePod(ctx, uid); err != nil {
		t.Fatal(err)
	}
	if done := second.logs.doneOf(containerID(uid, "main")); done != nil {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("the copiers did not end when the pod was removed")
		}
	}
	if left, _ := os.ReadDir(fifosDir(base.stateDir)); len(left) != 0 {
		t.Errorf("FIFO directories left after the pod was removed: %v", left)
	}
}
