package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// handedOut holds the ports freePort gave this test process, so that two
// agents of one test never get the same one.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// freePort is a loopback port free for TCP and UDP (gossip binds the same
// port on each). It is picked below the kernel's ephemeral range: a port
// from bind(":0") lies inside that range, where any test's outgoing
// connection can take it between this check and the agent's own bind (CI
// once failed so: "gossip TCP listener ... address already in use").
func freePort(t *testing.T) int {
	t.Helper()
	lo := ephemeralLow()
	handedOut.Lock()
	defer handedOut.Unlock()
	for i := 0; i < 200; i++ {
		p := 10000 + rand.IntN(lo-10000)
		if handedOut.ports[p] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
		l.Close()
		if err != nil {
			continue
		}
		c.Close()
		handedOut.ports[p] = true
		return p
	}
	t.Fatal("no loopback port below the ephemeral range is free for TCP and UDP")
	return 0
}

// ephemeralLow is the first port of the kernel's ephemeral range, or
// Linux's default when it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	var lo, hi int
	if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil || lo <= 11000 {
		return 32768
	}
	return lo
}

// startAgent runs a one-server fleet on loopback: real gossip, real Raft on
// disk, the real API. Its containerd address points nowhere, so the node
// side keeps waiting and only the control path is exercised.
func startAgent(t *testing.T, name string, memory string) string {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Name = name
	cfg.DataDir = t.TempDir()
	cfg.BindAddr = "127.0.0.1"
	cfg.APIPort, cfg.RaftPort, cfg.GossipPort = freePort(t), freePort(t), freePort(t)
	cfg.BootstrapExpect = 1
	cfg.ContainerdAddress = cfg.DataDir + "/no-containerd.sock"
	cfg.NetnsPrefix = "shoal-agenttest-" + name + "-"
	cfg.Memory, cfg.CPU = memory, "2"
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent stopped with %v", err)
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", cfg.APIPort)
	eventually(t, "node registered and ready", func() bool {
		var l api.NodeList
		if getJSON(base+"/api/v1/nodes", &l) != nil || len(l.Items) != 1 {
			return false
		}
		for _, c := range l.Items[0].Status.Conditions {
			if c.Type == "Ready" && c.Status == "True" {
				return true
			}
		}
		return false
	})
	return base
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func getJSON(url string, out any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func send(t *testing.T, method, url, body string) (int, api.Status) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var st api.Status
	_ = json.Unmarshal(b, &st)
	return resp.StatusCode, st
}

const podYAML = `apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  containers:
  - name: app
    image: shoal.local/busybox:1
    resources: {requests: {memory: %s}}
`

func TestAppliedPodIsBoundWithAnIPFromTheNodeBlock(t *testing.T) {
	base := startAgent(t, "solo", "2Gi")
	code, st := send(t, "POST", base+"/api/v1/namespaces/default/pods", fmt.Sprintf(podYAML, "web", "1Gi"))
	if code != http.StatusCreated {
		t.Fatalf("create: HTTP %d %+v", code, st)
	}
	var p api.Pod
	eventually(t, "pod bound", func() bool {
		return getJSON(base+"/api/v1/namespaces/default/pods/web", &p) == nil && p.Spec.NodeName == "solo"
	})
	var n api.Node
	if err := getJSON(base+"/api/v1/nodes/solo", &n); err != nil {
		t.Fatal(err)
	}
	_, block, err := net.ParseCIDR(n.Spec.PodCIDR)
	if err != nil || !block.Contains(net.ParseIP(p.Status.PodIP)) {
		t.Fatalf("pod IP %q not in node block %q", p.Status.PodIP, n.Spec.PodCIDR)
	}

	code, st = send(t, "POST", base+"/api/v1/namespaces/default/pods", fmt.Sprintf(podYAML, "web", "1Gi"))
	if code != http.StatusConflict || st.Reason != "AlreadyExists" {
		t.Fatalf("second create: HTTP %d %+v", code, st)
	}
}

func TestPodBiggerThanAnyNodeStaysPendingWithTheReason(t *testing.T) {
	base := startAgent(t, "small", "1Gi")
	if code, st := send(t, "POST", base+"/api/v1/namespaces/default/pods", fmt.Sprintf(podYAML, "big", "3Gi")); code != http.StatusCreated {
		t.Fatalf("create: HTTP %d %+v", code, st)
	}
	eventually(t, "unschedulable condition", func() bool {
		var p api.Pod
		if getJSON(base+"/api/v1/namespaces/default/pods/big", &p) != nil {
			return false
		}
		c := podCondition(&p, "PodScheduled")
		return c != nil && c.Status == "False" && strings.Contains(c.Message, "small: memory 3Gi requested, 1Gi free")
	})
}

func TestBadManifestIsRejectedWithTheFieldAndChangesNothing(t *testing.T) {
	base := startAgent(t, "strict", "2Gi")
	bad := strings.Replace(fmt.Sprintf(podYAML, "typo", "1Gi"), "image:", "imagePullPolicyy: Always\n    image:", 1)
	code, st := send(t, "POST", base+"/api/v1/namespaces/default/pods", bad)
	if code != http.StatusUnprocessableEntity || st.Reason != "Invalid" || st.Details == nil || len(st.Details.Causes) != 1 ||
		st.Details.Causes[0].Field != "spec.containers[0].imagePullPolicyy" {
		t.Fatalf("HTTP %d %+v", code, st)
	}
	wrongNS := strings.Replace(fmt.Sprintf(podYAML, "elsewhere", "1Gi"), "metadata: {", "metadata: {namespace: other, ", 1)
	if code, st := send(t, "POST", base+"/api/v1/namespaces/default/pods", wrongNS); code != http.StatusUnprocessableEntity {
		t.Fatalf("namespace mismatch: HTTP %d %+v", code, st)
	}
	code, _ = send(t, "POST", base+"/api/v1/namespaces/default/pods", strings.Repeat("x", maxBodyBytes+10))
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("huge body: HTTP %d", code)
	}
	var l api.PodList
	if err := getJSON(base+"/api/v1/pods", &l); err != nil || len(l.Items) != 0 {
		t.Fatalf("pods stored after rejected requests: %d, %v", len(l.Items), err)
	}
	if code, st := send(t, "GET", base+"/api/v1/namespaces/default/pods/nope", ""); code != 404 || st.Reason != "NotFound" {
		t.Fatalf("missing pod: HTTP %d %+v", code, st)
	}
}

func TestNodeMetadataFitsGossip(t *testing.T) {
	labels := map[string]string{}
	for i := 0; i < 40; i++ {
		labels[fmt.Sprintf("example.com/label-%d", i)] = "some-value"
	}
	cfg := DefaultConfig()
	cfg.Name = "n"
	_, err := newMembership(cfg, nodeMeta{V: 1, Labels: labels}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "fewer or shorter labels") {
		t.Fatalf("err = %v", err)
	}
}
