package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// badLoadRSSBound is how much the agent's peak RSS may grow over its idle
// RSS while the bad requests hit it: a bound on memory that scales with
// the attack, not a speed figure.
const badLoadRSSBound = 256 // MiB

// TestBadInputUnderLoad sends 1,000 bad requests to a real agent (the
// shoal binary, one server, on loopback; its containerd address points
// nowhere, so only the API is exercised), 50 at a time plus every slow one
// at once: oversized, deeply nested and malformed bodies are answered with
// their named 4xx, a request whose headers never finish is closed, one
// whose body never finishes is answered 408. Its peak RSS stays within
// badLoadRSSBound of its idle RSS, and afterwards it still answers.
func TestBadInputUnderLoad(t *testing.T) {
	requireE2E(t)
	dir := t.TempDir()
	apiPort := freePort(t)
	cmd := exec.Command(shoalBin, "agent", "--name", "badload", "--data-dir", dir,
		"--bind-addr", "127.0.0.1", "--api-port", strconv.Itoa(apiPort),
		"--raft-port", strconv.Itoa(freePort(t)), "--gossip-port", strconv.Itoa(freePort(t)),
		"--bootstrap-expect", "1", "--containerd", dir+"/no-containerd.sock",
		"--netns-prefix", "shoal-badload-", "--memory", "1Gi", "--cpu", "2")
	var logs lockedBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			out := logs.String()
			if len(out) > 6000 {
				out = out[len(out)-6000:]
			}
			t.Logf("agent log (tail):\n%s", out)
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", apiPort)
	base := "http://" + addr
	eventually(t, "the agent answers with a leader", func() string {
		resp, err := http.Get(base + "/api/v1/namespaces/default/pods")
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return resp.Status
		}
		return ""
	})
	pid := cmd.Process.Pid
	idle, err := procMemMB(pid, "VmRSS")
	if err != nil {
		t.Fatal(err)
	}

	pods := base + "/api/v1/namespaces/default/pods"
	huge := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"huge"},"spec":{"hostname":"` +
		strings.Repeat("x", api.MaxManifestBytes+1<<20) + `","containers":[{"name":"a","image":"busybox"}]}}`
	deep := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"deep"},"spec":` +
		strings.Repeat(`{"a":`, 100_000) + "1" + strings.Repeat("}", 100_000) + "}"
	malformed := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":` + strings.Repeat(`"x`, 1000)
	type fast struct {
		name, body string
		code       int
		reason     string
	}
	fastKinds := []fast{
		{"oversized", huge, 413, "RequestEntityTooLarge"},
		{"deeply nested", deep, 400, "BadRequest"},
		{"malformed", malformed, 400, "BadRequest"},
	}
	const perKind = 200 // 5 kinds: 1,000 requests

	var peak float64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if mb, err := procMemMB(pid, "VmRSS"); err == nil && mb > peak {
				peak = mb
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()

	var mu sync.Mutex
	failures := map[string]int{}
	var examples []string
	fail := func(kind, what string) {
		mu.Lock()
		defer mu.Unlock()
		failures[kind]++
		if failures[kind] <= 3 {
			examples = append(examples, kind+": "+what)
		}
	}

	var wg sync.WaitGroup
	// The slow ones all at once: each holds a connection until the agent
	// gives up on it.
	for i := range perKind {
		wg.Add(2)
		go func() { defer wg.Done(); slowHeaders(addr, i, func(s string) { fail("slow headers", s) }) }()
		go func() { defer wg.Done(); slowBody(addr, func(s string) { fail("slow body", s) }) }()
	}
	// The fast ones 50 at a time.
	jobs := make(chan fast)
	client := &http.Client{Timeout: 2 * time.Minute}
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range jobs {
				code, st, err := postStatus(client, pods, k.body)
				switch {
				case err != nil:
					fail(k.name, err.Error())
				case code != k.code || string(st.Reason) != k.reason || st.Message == "":
					fail(k.name, fmt.Sprintf("answered %d %s %q, want %d %s with a message", code, st.Reason, st.Message, k.code, k.reason))
				}
			}
		}()
	}
	for i := range perKind * len(fastKinds) {
		jobs <- fastKinds[i%len(fastKinds)]
	}
	close(jobs)
	wg.Wait()
	close(stopSampling)
	<-sampled

	for _, e := range examples {
		t.Error(e)
	}
	if len(failures) > 0 {
		t.Errorf("failures by kind: %v", failures)
	}
	t.Logf("agent RSS: idle %.0f MiB, peak %.0f MiB under 1,000 bad requests", idle, peak)
	if peak-idle > badLoadRSSBound {
		t.Errorf("agent RSS grew by %.0f MiB (idle %.0f, peak %.0f), bound %d MiB", peak-idle, idle, peak, badLoadRSSBound)
	}
	// It still serves.
	code, st, err := postStatus(client, pods, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"after"},"spec":{"containers":[{"name":"a","image":"busybox"}]}}`)
	if err != nil || code != 201 {
		t.Errorf("a good create after the load: %d %v %v", code, st, err)
	}
}

// postStatus POSTs body as JSON and decodes the answer as a Status. A
// server that answers before it has read the whole body (413) may reset
// the connection under the rest; the answer still counts when it came.
func postStatus(c *http.Client, url, body string) (int, api.Status, error) {
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, api.Status{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var st api.Status
	_ = json.Unmarshal(b, &st)
	return resp.StatusCode, st, nil
}

// slowHeaders starts a request and sends one header byte a second, never
// finishing the headers: the agent must close the connection, within a
// bound far above its header timeout.
func slowHeaders(addr string, i int, fail func(string)) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		fail(err.Error())
		return
	}
	defer conn.Close()
	deadline := time.Now().Add(90 * time.Second)
	_ = conn.SetDeadline(deadline)
	if _, err := fmt.Fprintf(conn, "GET /api/v1/pods HTTP/1.1\r\nHost: %s\r\nX-Slow-%d: ", addr, i); err != nil {
		fail(err.Error())
		return
	}
	buf := make([]byte, 1)
	for time.Now().Before(deadline) {
		if _, err := conn.Write([]byte("a")); err != nil {
			return // closed by the agent
		}
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := conn.Read(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue // still open
			}
			return // closed by the agent
		}
		fail("the agent answered headers that never ended")
		return
	}
	fail("connection still open after 90 s of headers")
}

// slowBody sends a create's headers and then its body a byte a second:
// the agent must answer 408 Timeout and close, within a bound far above
// its body timeout.
func slowBody(addr string, fail func(string)) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		fail(err.Error())
		return
	}
	defer conn.Close()
	deadline := time.Now().Add(2 * time.Minute)
	_ = conn.SetDeadline(deadline)
	body := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"slow"},"spec":{"containers":[{"name":"a","image":"busybox"}]}}`
	if _, err := fmt.Fprintf(conn, "POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, len(body)); err != nil {
		fail(err.Error())
		return
	}
	answer := make(chan *http.Response, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answer <- nil
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		answer <- resp
	}()
	for i := 0; i < len(body)-1 && time.Now().Before(deadline); i++ {
		select {
		case resp := <-answer:
			checkSlowBodyAnswer(resp, fail)
			return
		case <-time.After(time.Second):
		}
		if _, err := conn.Write([]byte{body[i]}); err != nil {
			break // the agent answered and closed: read its answer
		}
	}
	checkSlowBodyAnswer(<-answer, fail)
}

func checkSlowBodyAnswer(resp *http.Response, fail func(string)) {
	if resp == nil {
		fail("connection closed without an answer")
		return
	}
	var st api.Status
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &st)
	if resp.StatusCode != http.StatusRequestTimeout || st.Reason != "Timeout" || !strings.Contains(st.Message, "not received within") {
		fail(fmt.Sprintf("answered %d %s %q, want 408 Timeout", resp.StatusCode, st.Reason, st.Message))
	}
}
