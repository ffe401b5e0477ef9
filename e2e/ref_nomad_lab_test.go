package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// The Nomad reference lab: the Swarm lab's namespaces, bridge, kill,
// teardown and sweep (ref_swarm_lab_test.go, whose plumbing it borrows),
// with a `nomad agent` in each node namespace instead of a dockerd. Nomad
// is built from source by bench/nomad-build.sh (no release can be
// downloaded here); $SHOAL_NOMAD names the binary. Tasks run the host's
// static busybox (the binary shoal's busybox image packages) through
// Nomad's raw_exec driver, in a cgroup named after the node namespace,
// so the lab's kill and teardown find them as they find Swarm's
// containers. The test process talks to the agents' HTTP API through
// sockets opened inside the node namespaces: nothing of the lab is
// reachable from the host namespace.

const defaultNomad = "/var/tmp/shoal-peers/nomad-v2.0.5/bin/nomad"

// requireRefNomad skips unless the reference benchmarks were asked for and
// a Nomad binary is there.
func requireRefNomad(t *testing.T) string {
	t.Helper()
	requireBench(t)
	if os.Getenv("SHOAL_BENCH_REF") != "1" {
		t.Skip("set SHOAL_BENCH_REF=1 to run the reference benchmarks (bench/run.sh ref)")
	}
	bin := os.Getenv("SHOAL_NOMAD")
	if bin == "" {
		bin = defaultNomad
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no Nomad binary at %s (build one with bench/nomad-build.sh, or set SHOAL_NOMAD)", bin)
	}
	return bin
}

type nomadLab struct {
	*swarmLab
	nomadOpts
	nomad   string
	busybox string
}

// nomadOpts are a lab's settings beside its size.
type nomadOpts struct {
	servers int
	tuned   bool // heartbeat_grace and min_heartbeat_ttl cut to 1s
	// dedicated servers run no client: the placement benchmark stops every
	// client for its window, and a stopped server would place nothing.
	dedicated bool
	// grace is the servers' heartbeat_grace when not tuned; "" keeps
	// Nomad's default (10s).
	grace string
}

// newNomadLab starts n nomad agents, each in a node namespace of its own:
// the first `servers` are servers and clients at once (as every shoal
// agent runs pods and the first three hold Raft seats), the rest clients.
func newNomadLab(t *testing.T, nomad, name string, n, servers int, tuned bool) *nomadLab {
	t.Helper()
	return newNomadLabWith(t, nomad, name, n, nomadOpts{servers: servers, tuned: tuned})
}

// newNomadLabWith is newNomadLab with every setting: the first
// opts.servers agents are servers, clients too unless opts.dedicated.
func newNomadLabWith(t *testing.T, nomad, name string, n int, opts nomadOpts) *nomadLab {
	t.Helper()
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Skipf("the Nomad reference runs the host's busybox (busybox-static): %v", err)
	}
	sweepRefLabs(t)
	dir, err := os.MkdirTemp("", "shoalref-")
	if err != nil {
		t.Fatal(err)
	}
	s := &swarmLab{t: t, tag: fmt.Sprintf("shoalref-N%s%d", name, os.Getpid()%100000), dir: dir}
	s.bridge = s.tag + "-br"
	l := &nomadLab{swarmLab: s, nomadOpts: opts, nomad: nomad, busybox: busybox}
	owner := fmt.Sprintf("%d %s %d\n", os.Getpid(), s.tag, n)
	if err := os.WriteFile(filepath.Join(dir, "owner"), []byte(owner), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			l.dumpNomadLogs()
		}
		for _, nd := range s.nodes {
			l.killTasks(nd)
		}
		s.teardown()
	})
	s.ip("netns", "add", s.bridge)
	s.ip("-n", s.bridge, "link", "set", "lo", "up")
	s.ip("-n", s.bridge, "link", "add", "br0", "type", "bridge")
	s.ip("-n", s.bridge, "link", "set", "br0", "up")
	for i := 1; i <= n; i++ {
		nd := &swarmNode{
			name: fmt.Sprintf("n%d", i),
			ns:   fmt.Sprintf("%s-n%d", s.tag, i),
			ip:   fmt.Sprintf("%s.%d", refSubnet, 10+i),
			dir:  filepath.Join(dir, fmt.Sprintf("n%d", i)),
			veth: fmt.Sprintf("v%d", i),
		}
		s.nodes = append(s.nodes, nd)
		if err := os.MkdirAll(nd.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		s.ip("netns", "add", nd.ns)
		s.ip("-n", nd.ns, "link", "set", "lo", "up")
		s.ip("-n", nd.ns, "link", "add", "eth0", "type", "veth", "peer", "name", nd.veth, "netns", s.bridge)
		s.ip("-n", s.bridge, "link", "set", nd.veth, "master", "br0", "up")
		s.ip("-n", nd.ns, "addr", "add", nd.ip+"/24", "dev", "eth0")
		s.ip("-n", nd.ns, "link", "set", "eth0", "up")
		if err := os.WriteFile(filepath.Join(nd.dir, "agent.hcl"), []byte(l.config(i)), 0o644); err != nil {
			t.Fatal(err)
		}
		l.startAgent(nd)
	}
	l.waitNodesReady(nil)
	return l
}

// config is node i's agent configuration: Nomad's defaults but for where
// it listens, who it joins, the raw_exec driver and, when tuned, the
// servers' heartbeat settings a chaos tester would cut (or, for the
// placement benchmark, a longer heartbeat grace).
func (l *nomadLab) config(i int) string {
	nd := l.nodes[i-1]
	var servers, joins []string
	for k := 1; k <= l.servers; k++ { // the servers are n1..n<servers>, not all started yet
		ip := fmt.Sprintf("%s.%d", refSubnet, 10+k)
		servers = append(servers, fmt.Sprintf("%q", ip+":4647"))
		joins = append(joins, fmt.Sprintf("%q", ip))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "name = %q\ndata_dir = %q\nbind_addr = %q\nlog_level = \"INFO\"\ndisable_update_check = true\n",
		nd.name, filepath.Join(nd.dir, "data"), nd.ip)
	if i <= l.servers {
		fmt.Fprintf(&b, "server {\n  enabled = true\n  bootstrap_expect = %d\n  server_join {\n    retry_join = [%s]\n    retry_interval = \"1s\"\n  }\n",
			l.servers, strings.Join(joins, ", "))
		if l.tuned {
			b.WriteString("  heartbeat_grace = \"1s\"\n  min_heartbeat_ttl = \"1s\"\n")
		} else if l.grace != "" {
			fmt.Fprintf(&b, "  heartbeat_grace = %q\n", l.grace)
		}
		b.WriteString("}\n")
	}
	if !l.runsClient(i) {
		b.WriteString(nomadNoConsul)
		return b.String()
	}
	// The cloud fingerprinters would ask metadata services the lab cannot
	// (and must not) reach.
	fmt.Fprintf(&b, "client {\n  enabled = true\n  servers = [%s]\n  network_interface = \"eth0\"\n  cgroup_parent = %q\n"+
		"  options = {\n    \"fingerprint.denylist\" = \"env_aws,env_gce,env_azure,env_digitalocean\"\n  }\n}\n",
		strings.Join(servers, ", "), nd.ns)
	b.WriteString("plugin \"raw_exec\" {\n  config {\n    enabled = true\n  }\n}\n")
	b.WriteString(nomadNoConsul)
	return b.String()
}

// nomadNoConsul keeps every agent away from Consul (the lab has none).
const nomadNoConsul = "consul {\n  server_auto_join = false\n  client_auto_join = false\n  auto_advertise = false\n}\n"

// runsClient says whether node i (from 1) runs a Nomad client.
func (l *nomadLab) runsClient(i int) bool { return !l.dedicated || i > l.servers }

// startAgent runs `nomad agent` in nd's namespace; `ip netns exec` gives
// it a fresh /sys, so the wrapper mounts the host's cgroup hierarchies
// again first (as for dockerd), then execs nomad: the started process is
// the agent itself.
func (l *nomadLab) startAgent(nd *swarmNode) {
	l.t.Helper()
	mounts, err := cgroupMounts()
	if err != nil {
		l.t.Fatal(err)
	}
	script := "set -e\n" + mounts + "exec \"$@\"\n"
	cmd := exec.Command("ip", "netns", "exec", nd.ns, "sh", "-c", script, "sh",
		l.nomad, "agent", "-config", filepath.Join(nd.dir, "agent.hcl"))
	log, err := os.OpenFile(filepath.Join(nd.dir, "nomad.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		l.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		l.t.Fatalf("start nomad on %s: %v", nd.name, err)
	}
	nd.cmd, nd.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); log.Close(); close(nd.done) }()
}

// kill does what `shoal lab kill` does to a shoal node, at once: cut its
// link and SIGKILL its agent, the agent's executors and its tasks.
func (l *nomadLab) kill(nd *swarmNode) {
	l.t.Helper()
	l.ip("-n", l.bridge, "link", "set", nd.veth, "down")
	l.killTasks(nd)
	for _, pid := range l.nodePIDs(nd) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	select {
	case <-nd.done:
	case <-time.After(30 * time.Second):
		l.t.Fatalf("nomad on %s outlived SIGKILL", nd.name)
	}
}

// killTasks kills nd's task processes found by their environment (Nomad
// gives every task NOMAD_ALLOC_DIR under the node's data directory), in
// case a task is in none of the node's cgroups.
func (l *nomadLab) killTasks(nd *swarmNode) {
	for _, pid := range l.taskPIDs(nd.dir) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// taskPIDs are the processes whose NOMAD_ALLOC_DIR is under dir.
func (l *nomadLab) taskPIDs(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ")); err == nil && strings.Contains(string(b), "NOMAD_ALLOC_DIR="+dir+"/") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// healAgent reconnects nd and starts its agent again on the same data.
func (l *nomadLab) healAgent(nd *swarmNode) {
	l.t.Helper()
	l.waitPIDsGone(nd)
	l.ip("-n", l.bridge, "link", "set", nd.veth, "up")
	l.startAgent(nd)
}

// api GETs path from nd's agent (or sends body when it is not nil) and
// decodes the answer into out.
func (l *nomadLab) api(nd *swarmNode, method, path string, body, out any) error {
	var rd *strings.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+nd.ip+":4646"+path, rd)
	if err != nil {
		return err
	}
	c := http.Client{Transport: &http.Transport{DialContext: dialIn(nd.ns), DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s on %s: %w", method, path, nd.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s on %s: %s: %s", method, path, nd.name, resp.Status, strings.TrimSpace(string(msg)))
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// dialIn dials from inside the named network namespace: the socket is
// made on a locked thread switched into it, then the thread switches back.
func dialIn(ns string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		type result struct {
			c   net.Conn
			err error
		}
		ch := make(chan result, 1)
		go func() {
			runtime.LockOSThread()
			orig, err := netns.Get()
			if err != nil {
				ch <- result{err: err}
				return
			}
			defer orig.Close()
			target, err := netns.GetFromName(ns)
			if err != nil {
				runtime.UnlockOSThread()
				ch <- result{err: fmt.Errorf("namespace %s: %w", ns, err)}
				return
			}
			defer target.Close()
			if err := netns.Set(target); err != nil {
				runtime.UnlockOSThread()
				ch <- result{err: err}
				return
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			if netns.Set(orig) == nil {
				// Back home: the thread may serve other goroutines again.
				runtime.UnlockOSThread()
			} // else the thread stays locked and dies with this goroutine
			ch <- result{c, err}
		}()
		r := <-ch
		return r.c, r.err
	}
}

// nomadNode is what GET /v1/nodes lists.
type nomadNode struct{ Name, Status string }

func (l *nomadLab) nodeStates(from *swarmNode) (map[string]string, error) {
	var ns []nomadNode
	if err := l.api(from, "GET", "/v1/nodes", nil, &ns); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, n := range ns {
		m[n.Name] = n.Status
	}
	return m, nil
}

// waitNodesReady polls until a leader is elected and every client not in
// down is ready.
func (l *nomadLab) waitNodesReady(down map[string]bool) {
	l.t.Helper()
	var last string
	deadline := time.Now().Add(refWait)
	for time.Now().Before(deadline) {
		m, err := l.nodeStates(l.nodes[0])
		if err == nil {
			ok := true
			for i, nd := range l.nodes {
				if l.runsClient(i+1) && !down[nd.name] && m[nd.name] != "ready" {
					ok = false
				}
			}
			if ok {
				return
			}
			last = fmt.Sprint(m)
		} else {
			last = err.Error()
		}
		for _, nd := range l.nodes {
			select {
			case <-nd.done:
				if !down[nd.name] {
					l.t.Fatalf("nomad on %s exited; see %s", nd.name, filepath.Join(nd.dir, "nomad.log"))
				}
			default:
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	l.t.Fatalf("nomad nodes never all ready; last: %s", last)
}

// waitNodeDown polls every 100ms until the servers report nd down.
func (l *nomadLab) waitNodeDown(nd *swarmNode, start time.Time) time.Duration {
	l.t.Helper()
	for time.Since(start) < refWait {
		if m, err := l.nodeStates(l.nodes[0]); err == nil && m[nd.name] == "down" {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.t.Fatalf("nomad never reported %s down", nd.name)
	return 0
}

// runJob registers a service job of count copies of `busybox sleep` with
// the CLI (HCL, as a user writes it), from inside n1's namespace.
func (l *nomadLab) runJob(id string, count int) {
	l.t.Helper()
	l.cli("job", "run", "-detach", l.jobFile(id, count, 20, 16))
}

// jobFile writes the HCL of a service job of count copies of `busybox
// sleep`, each asking cpu MHz and mem MB (and Nomad's default ephemeral
// disk, 300 MB), and returns its path.
func (l *nomadLab) jobFile(id string, count, cpu, mem int) string {
	l.t.Helper()
	return l.jobFileDisk(id, count, cpu, mem, 0)
}

// jobFileDisk is jobFile with each allocation's ephemeral disk set to
// disk MB (0: Nomad's default, 300 MB; Nomad wants it larger than the
// task's logs, 100 MB by default).
func (l *nomadLab) jobFileDisk(id string, count, cpu, mem, disk int) string {
	l.t.Helper()
	eph := ""
	if disk > 0 {
		eph = fmt.Sprintf("    ephemeral_disk {\n      size = %d\n    }\n", disk)
	}
	job := fmt.Sprintf(`job %q {
  type = "service"
  group "g" {
    count = %d
%s    task "sleep" {
      driver = "raw_exec"
      config {
        command = %q
        args    = ["sleep", "100000"]
      }
      resources {
        cpu    = %d
        memory = %d
      }
    }
  }
}
`, id, count, eph, l.busybox, cpu, mem)
	path := filepath.Join(l.dir, id+".nomad.hcl")
	if err := os.WriteFile(path, []byte(job), 0o644); err != nil {
		l.t.Fatal(err)
	}
	return path
}

func (l *nomadLab) stopJob(id string) {
	l.t.Helper()
	l.cli("job", "stop", "-purge", "-detach", id)
}

// cli runs the nomad CLI in n1's namespace against n1's agent.
func (l *nomadLab) cli(args ...string) string {
	l.t.Helper()
	n1 := l.nodes[0]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n1.ns, l.nomad}, args...)...)
	cmd.Env = append(os.Environ(), "NOMAD_ADDR=http://"+n1.ip+":4646")
	out, err := cmd.CombinedOutput()
	if err != nil {
		l.t.Fatalf("nomad %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// alloc is what GET /v1/job/:id/allocations lists.
type alloc struct {
	ID, NodeName, ClientStatus, DesiredStatus string
}

func (l *nomadLab) allocs(id string) ([]alloc, error) {
	var as []alloc
	err := l.api(l.nodes[0], "GET", "/v1/job/"+id+"/allocations", nil, &as)
	return as, err
}

// waitAllocsRunning polls every 100ms until want allocations of job id
// run, none on a node in down and none other meant to run, and returns
// when each was first seen running, measured from start.
func (l *nomadLab) waitAllocsRunning(id string, want int, down map[string]bool, start time.Time) map[string]time.Duration {
	l.t.Helper()
	seen := map[string]time.Duration{}
	var last string
	for time.Since(start) < refWait {
		as, err := l.allocs(id)
		now := time.Since(start)
		if err != nil {
			last = err.Error()
			time.Sleep(100 * time.Millisecond)
			continue
		}
		running, meant := 0, 0
		count := map[string]int{}
		for _, a := range as {
			if a.DesiredStatus != "run" || down[a.NodeName] {
				continue
			}
			meant++
			count[a.NodeName+":"+a.ClientStatus]++
			if a.ClientStatus == "running" {
				running++
				if _, dup := seen[a.ID]; !dup {
					seen[a.ID] = now
				}
			}
		}
		if running == want && meant == want {
			return seen
		}
		last = fmt.Sprint(count)
		time.Sleep(100 * time.Millisecond)
	}
	l.t.Fatalf("%d allocations of %s never all running off %v; last: %s", want, id, keys(down), last)
	return nil
}

// waitNoTasks polls until no task process of the lab is left (a stopped
// job's tasks are gone from the machine, not only from the API).
func (l *nomadLab) waitNoTasks() {
	l.t.Helper()
	deadline := time.Now().Add(refWait)
	for time.Now().Before(deadline) {
		if len(l.taskPIDs(l.dir)) == 0 {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	l.t.Fatalf("task processes %v never went away", l.taskPIDs(l.dir))
}

// leaderName is the node whose address leads the servers' Raft.
func (l *nomadLab) leaderName() string {
	l.t.Helper()
	var addr string
	if err := l.api(l.nodes[0], "GET", "/v1/status/leader", nil, &addr); err != nil {
		l.t.Fatal(err)
	}
	host, _, _ := net.SplitHostPort(addr)
	for _, nd := range l.nodes {
		if nd.ip == host {
			return nd.name
		}
	}
	l.t.Fatalf("leader %q is no node of the lab", addr)
	return ""
}

func (l *nomadLab) dumpNomadLogs() {
	for _, nd := range l.nodes {
		b, err := os.ReadFile(filepath.Join(nd.dir, "nomad.log"))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		l.t.Logf("nomad %s (last %d lines):\n%s", nd.name, len(lines), strings.Join(lines, "\n"))
	}
}
