package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// tickerPod prints a line, waits for /tmp/go, prints another, then a
// numbered tick five times a second.
const tickerPod = `apiVersion: v1
kind: Pod
metadata:
  name: ticker
spec:
  containers:
  - name: main
    image: shoal.local/busybox:1
    command: ["sh", "-c", "echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo second; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"]
`

// TestKubectlLogsTimesAndAgentRestart: the agent stores each line's time
// (CRI log format), so kubectl's --timestamps, --since-time and --since
// work, --limit-bytes cuts, and the log goes on, without a lost line,
// after the node's agent restarts. (The name is short: the lab's
// containerd socket lives under the test's temporary directory.)
func TestKubectlLogsTimesAndAgentRestart(t *testing.T) {
	k := startKubectlFleetOf(t, "lt", 2)
	started := time.Now()
	k.ok("apply", "-f", k.file("ticker.yaml", tickerPod))
	k.eventually("the first line", func(out string) bool { return out == "first\n" }, "logs", "ticker")

	out := k.ok("logs", "ticker", "--timestamps")
	ts, content, _ := strings.Cut(strings.TrimSuffix(out, "\n"), " ")
	tm, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil || content != "first" || tm.Before(started.Add(-time.Second)) || tm.After(time.Now()) {
		t.Errorf("kubectl logs --timestamps = %q (time %v, %v), want the line's time during the test, then first", out, tm, err)
	}
	if out := k.ok("logs", "ticker", "--limit-bytes=3"); out != "fir" {
		t.Errorf("kubectl logs --limit-bytes=3 = %q, want fir", out)
	}

	// --since-time takes whole seconds: wait for the next one to begin,
	// then let the container print its second line.
	mark := time.Now().Add(time.Second).Truncate(time.Second)
	for time.Now().Before(mark) {
		time.Sleep(50 * time.Millisecond)
	}
	k.ok("exec", "ticker", "--", "touch", "/tmp/go")
	k.eventually("the second line", func(out string) bool { return strings.HasPrefix(out, "first\nsecond\n") }, "logs", "ticker")
	if out := k.ok("logs", "ticker", "--since-time="+mark.UTC().Format(time.RFC3339)); !strings.HasPrefix(out, "second\n") || strings.Contains(out, "first") {
		t.Errorf("kubectl logs --since-time=%s = %q, want it to start at second", mark.UTC().Format(time.RFC3339), out)
	}
	if out := k.ok("logs", "ticker", "--since=1h"); !strings.HasPrefix(out, "first\nsecond\n") {
		t.Errorf("kubectl logs --since=1h = %q, want every line", out)
	}
	if out := k.ok("logs", "ticker", "--tail=1", "--timestamps", "--limit-bytes=10"); out != ts[:10] {
		t.Errorf("kubectl logs --tail=1 --timestamps --limit-bytes=10 = %q, want the first 10 bytes of a time", out)
	}

	// The node's agent restarts while the container goes on printing.
	node := k.ok("get", "pod", "ticker", "-o", "jsonpath={.spec.nodeName}")
	k.eventually("tick 2", func(out string) bool { return strings.Contains(out, "tick 2\n") }, "logs", "ticker")
	k.run("lab", "restart", k.name, node, "--state-root", k.stateRoot)
	restarted := time.Now()
	out = k.eventually("ticks written after the agent restarted", func(out string) bool {
		last := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		ts, _, _ := strings.Cut(last[len(last)-1], " ")
		tm, err := time.Parse(time.RFC3339Nano, ts)
		return err == nil && tm.After(restarted.Add(2*time.Second))
	}, "logs", "ticker", "--timestamps")
	var want strings.Builder
	want.WriteString("first\nsecond\n")
	n := strings.Count(out, " tick ")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&want, "tick %d\n", i)
	}
	if got := k.ok("logs", "ticker"); !strings.HasPrefix(got, want.String()) {
		t.Errorf("log across the agent restart:\n%s\nwant it to start with every tick:\n%s", got, want.String())
	}
}
