package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/deploy/lab"
)

// The Docker Swarm reference lab: the same shape as a shoal lab (one
// network namespace per node, veth pairs to a bridge in a namespace of its
// own), with a dockerd and its managed containerd in each node namespace
// instead of a shoal agent. Nothing is made in the host namespace: no
// docker0, no iptables rule, no route (dockerd's bridge, iptables rules
// and overlay devices land in the node namespaces). It exists so shoal's
// lab benchmarks can be read beside Swarm's on the same machine in one run.

const (
	refSubnet   = "10.252.0"     // node addresses refSubnet.1K/24, inside the lab's namespaces only
	refAddrPool = "10.96.0.0/16" // swarm overlay subnets, away from the node subnet
	refImage    = "shoal.local/busybox:1"
	refWait     = 3 * time.Minute // generous: other labs share the 2 cores
)

// requireRef skips unless the reference benchmarks were asked for and
// Docker (Debian's docker.io) and skopeo are installed.
func requireRef(t *testing.T) {
	t.Helper()
	requireBench(t)
	if os.Getenv("SHOAL_BENCH_REF") != "1" {
		t.Skip("set SHOAL_BENCH_REF=1 to run the Docker Swarm reference benchmarks (bench/run.sh ref)")
	}
	for _, bin := range []string{"dockerd", "skopeo"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("the reference benchmarks need %s (bench/run.sh ref installs docker.io and skopeo)", bin)
		}
	}
}

type swarmLab struct {
	t      *testing.T
	tag    string // shoalref-TAG: prefix of every namespace and cgroup of this lab
	dir    string
	docker string // the CLI shipped with dockerd (the daemon's API version)
	bridge string // namespace holding the bridge
	nodes  []*swarmNode
}

type swarmNode struct {
	name, ns, ip, dir, sock, veth string
	cmd                           *exec.Cmd
	done                          chan struct{}
}

// newSwarmLab starts n dockerd daemons, each in a node namespace of its
// own. Teardown is registered before anything is made, so a failure half
// way still removes all of it.
func newSwarmLab(t *testing.T, name string, n int) *swarmLab {
	t.Helper()
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		t.Fatal(err)
	}
	// docker.io's CLI is /usr/bin/docker; another docker earlier in PATH
	// may be a newer client than this daemon speaks.
	cli := "/usr/bin/docker"
	if _, err := os.Stat(cli); err != nil {
		if cli, err = exec.LookPath("docker"); err != nil {
			t.Fatalf("no docker CLI for %s: %v", dockerd, err)
		}
	}
	sweepRefLabs(t)
	dir, err := os.MkdirTemp("", "shoalref-")
	if err != nil {
		t.Fatal(err)
	}
	l := &swarmLab{t: t, tag: fmt.Sprintf("shoalref-%s%d", name, os.Getpid()%100000), dir: dir, docker: cli}
	l.bridge = l.tag + "-br"
	// What a later run needs to take this lab down if this process dies
	// before its cleanup runs (a go test timeout, a kill).
	owner := fmt.Sprintf("%d %s %d\n", os.Getpid(), l.tag, n)
	if err := os.WriteFile(filepath.Join(dir, "owner"), []byte(owner), 0o644); err != nil {
		t.Fatal(err)
	}
	_, keyErr := os.Stat("/etc/docker/key.json")
	t.Cleanup(func() {
		if t.Failed() {
			l.dumpLogs()
		}
		if d := os.Getenv("KEEPLOGS"); d != "" {
			l.keepLogs(d)
		}
		l.teardown()
		// dockerd writes its engine key to /etc/docker whatever --data-root
		// says; take it away again if it was not there before.
		if errors.Is(keyErr, os.ErrNotExist) {
			_ = os.Remove("/etc/docker/key.json")
		}
	})
	l.ip("netns", "add", l.bridge)
	l.ip("-n", l.bridge, "link", "set", "lo", "up")
	l.ip("-n", l.bridge, "link", "add", "br0", "type", "bridge")
	l.ip("-n", l.bridge, "link", "set", "br0", "up")
	for i := 1; i <= n; i++ {
		nd := &swarmNode{
			name: fmt.Sprintf("n%d", i),
			ns:   fmt.Sprintf("%s-n%d", l.tag, i),
			ip:   fmt.Sprintf("%s.%d", refSubnet, 10+i),
			dir:  filepath.Join(dir, fmt.Sprintf("n%d", i)),
			veth: fmt.Sprintf("v%d", i),
		}
		nd.sock = filepath.Join(nd.dir, "docker.sock")
		l.nodes = append(l.nodes, nd)
		if err := os.MkdirAll(nd.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(nd.dir, "daemon.json"), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		l.ip("netns", "add", nd.ns)
		l.ip("-n", nd.ns, "link", "set", "lo", "up")
		l.ip("-n", nd.ns, "link", "add", "eth0", "type", "veth", "peer", "name", nd.veth, "netns", l.bridge)
		l.ip("-n", l.bridge, "link", "set", nd.veth, "master", "br0", "up")
		l.ip("-n", nd.ns, "addr", "add", nd.ip+"/24", "dev", "eth0")
		l.ip("-n", nd.ns, "link", "set", "eth0", "up")
		l.startDaemon(nd)
	}
	for _, nd := range l.nodes {
		l.waitDaemon(nd)
	}
	return l
}

func (l *swarmLab) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// sweepRefLabs takes down the reference labs of test processes that died
// before their cleanup ran: each lab directory names its owner's pid, its
// tag and its node count.
func sweepRefLabs(t *testing.T) {
	owners, _ := filepath.Glob(filepath.Join(os.TempDir(), "shoalref-*", "owner"))
	for _, o := range owners {
		b, err := os.ReadFile(o)
		if err != nil {
			continue
		}
		var pid, n int
		var tag string
		if _, err := fmt.Sscan(string(b), &pid, &tag, &n); err != nil || !strings.HasPrefix(tag, "shoalref-") {
			continue
		}
		if syscall.Kill(pid, 0) == nil {
			continue // its owner still runs and cleans up after itself
		}
		l := &swarmLab{t: t, tag: tag, dir: filepath.Dir(o), bridge: tag + "-br"}
		for i := 1; i <= n; i++ {
			l.nodes = append(l.nodes, &swarmNode{name: fmt.Sprintf("n%d", i), ns: fmt.Sprintf("%s-n%d", tag, i), dir: filepath.Join(l.dir, fmt.Sprintf("n%d", i))})
		}
		t.Logf("taking down %s (%s), left by dead process %d", tag, l.dir, pid)
		l.teardown()
	}
}

// cgroupMounts are the host's cgroup mounts as shell commands. `ip netns
// exec` runs its command in a private mount namespace with a fresh /sys,
// which has no cgroup mounts; dockerd refuses to start without them
// ("Devices cgroup isn't mounted"), so the node's wrapper mounts the same
// hierarchies again before it execs dockerd. The private mount namespace
// is also why dockerd's overlay and netns mounts never show in the host's
// /proc/mounts: they go away with the node's last process.
func cgroupMounts() (string, error) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.WriteString("mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup\n")
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || (f[2] != "cgroup" && f[2] != "cgroup2") || !strings.HasPrefix(f[1], "/sys/fs/cgroup") {
			continue
		}
		var opts []string
		for _, o := range strings.Split(f[3], ",") {
			switch o {
			case "rw", "ro", "relatime", "nosuid", "nodev", "noexec", "noatime":
			default:
				opts = append(opts, o)
			}
		}
		fmt.Fprintf(&sb, "mkdir -p %s\n", f[1])
		if len(opts) > 0 {
			fmt.Fprintf(&sb, "mount -t %s -o %s %s %s\n", f[2], strings.Join(opts, ","), f[2], f[1])
		} else {
			fmt.Fprintf(&sb, "mount -t %s %s %s\n", f[2], f[2], f[1])
		}
	}
	return sb.String(), nil
}

func (l *swarmLab) cgroupParent(nd *swarmNode) string { return nd.ns }

// startDaemon runs dockerd in nd's namespace (and a UTS namespace, so the
// swarm node is called n1, n2, ...), with everything it keeps under nd.dir
// and its own managed containerd (socket under its exec-root).
func (l *swarmLab) startDaemon(nd *swarmNode) {
	l.t.Helper()
	mounts, err := cgroupMounts()
	if err != nil {
		l.t.Fatal(err)
	}
	script := "set -e\n" + mounts + "hostname " + nd.name + "\nexec dockerd \"$@\"\n"
	args := []string{"netns", "exec", nd.ns, "unshare", "--uts", "sh", "-c", script, "sh",
		"--data-root", filepath.Join(nd.dir, "data"),
		"--exec-root", filepath.Join(nd.dir, "exec"),
		"--pidfile", filepath.Join(nd.dir, "docker.pid"),
		"-H", "unix://" + nd.sock,
		"--config-file", filepath.Join(nd.dir, "daemon.json"),
		"--cgroup-parent", l.cgroupParent(nd),
	}
	log, err := os.OpenFile(filepath.Join(nd.dir, "dockerd.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		l.t.Fatal(err)
	}
	cmd := exec.Command("ip", args...)
	// No registry here: a task uses the image loaded into its daemon
	// instead of asking a registry first (what shoal's lab does too).
	cmd.Env = append(os.Environ(), "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		l.t.Fatalf("start dockerd on %s: %v", nd.name, err)
	}
	nd.cmd, nd.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); log.Close(); close(nd.done) }()
}

func (l *swarmLab) waitDaemon(nd *swarmNode) {
	l.t.Helper()
	deadline := time.Now().Add(refWait)
	for time.Now().Before(deadline) {
		if _, err := l.try(nd, "version", "--format", "{{.Server.Version}}"); err == nil {
			return
		}
		select {
		case <-nd.done:
			l.t.Fatalf("dockerd on %s exited; see %s", nd.name, filepath.Join(nd.dir, "dockerd.log"))
		case <-time.After(200 * time.Millisecond):
		}
	}
	l.t.Fatalf("dockerd on %s never answered", nd.name)
}

// try runs the docker CLI against nd's daemon.
func (l *swarmLab) try(nd *swarmNode, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.docker, append([]string{"-H", "unix://" + nd.sock}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s on %s: %w: %s", strings.Join(args, " "), nd.name, err, out)
	}
	return string(out), nil
}

func (l *swarmLab) run(nd *swarmNode, args ...string) string {
	l.t.Helper()
	out, err := l.try(nd, args...)
	if err != nil {
		l.t.Fatal(err)
	}
	return out
}

// formSwarm makes n1 the first manager, the next managers-1 nodes managers
// too and the rest workers, each advertising its namespace address.
func (l *swarmLab) formSwarm(managers int, initArgs ...string) {
	l.t.Helper()
	first := l.nodes[0]
	l.run(first, append([]string{"swarm", "init", "--advertise-addr", first.ip, "--listen-addr", first.ip + ":2377",
		"--default-addr-pool", refAddrPool}, initArgs...)...)
	mtok := strings.TrimSpace(l.run(first, "swarm", "join-token", "-q", "manager"))
	wtok := strings.TrimSpace(l.run(first, "swarm", "join-token", "-q", "worker"))
	for i, nd := range l.nodes[1:] {
		tok := wtok
		if i+1 < managers {
			tok = mtok
		}
		l.run(nd, "swarm", "join", "--token", tok, "--advertise-addr", nd.ip, "--listen-addr", nd.ip+":2377", first.ip+":2377")
	}
	l.waitNodesReady(nil)
}

// nodeStates maps each swarm node's hostname to its status (Ready, Down).
func (l *swarmLab) nodeStates(from *swarmNode) (map[string]string, error) {
	out, err := l.try(from, "node", "ls", "--format", "{{.Hostname}} {{.Status}}")
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			m[f[0]] = f[1]
		}
	}
	return m, nil
}

// waitNodesReady polls until every node not in down is Ready.
func (l *swarmLab) waitNodesReady(down map[string]bool) {
	l.t.Helper()
	var last string
	deadline := time.Now().Add(refWait)
	for time.Now().Before(deadline) {
		m, err := l.nodeStates(l.nodes[0])
		if err == nil {
			ok := true
			for _, nd := range l.nodes {
				if !down[nd.name] && m[nd.name] != "Ready" {
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
		time.Sleep(200 * time.Millisecond)
	}
	l.t.Fatalf("swarm nodes never all Ready; last: %s", last)
}

// loadImage converts the OCI archive shoal's image builder writes into a
// docker-archive (Docker 20.10's `docker load` reads no OCI layout) and
// loads it into every daemon: no registry involved.
func (l *swarmLab) loadImage(ociArchive, ref string) {
	l.t.Helper()
	archive := filepath.Join(l.dir, filepath.Base(ociArchive)+".docker.tar")
	_ = os.Remove(archive)
	if out, err := exec.Command("skopeo", "copy", "oci-archive:"+ociArchive, "docker-archive:"+archive+":"+ref).CombinedOutput(); err != nil {
		l.t.Fatalf("skopeo copy %s: %v\n%s", ociArchive, err, out)
	}
	for _, nd := range l.nodes {
		l.run(nd, "load", "-i", archive)
	}
}

// task is one swarm task as `docker service ps` shows it.
type task struct{ id, node, state string }

func (l *swarmLab) tasks(from *swarmNode, service string) ([]task, error) {
	out, err := l.try(from, "service", "ps", service, "--no-trunc", "--filter", "desired-state=running",
		"--format", "{{.ID}}\t{{.Node}}\t{{.CurrentState}}")
	if err != nil {
		return nil, err
	}
	var ts []task
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) == 3 {
			ts = append(ts, task{id: f[0], node: f[1], state: f[2]})
		}
	}
	return ts, nil
}

// waitServiceRunning polls every 100ms (as the shoal benchmarks do) until
// want tasks of service run, none on a node in down, and returns when each
// task was first seen Running, measured from start.
func (l *swarmLab) waitServiceRunning(from *swarmNode, service string, want int, down map[string]bool, start time.Time) map[string]time.Duration {
	l.t.Helper()
	seen := map[string]time.Duration{}
	var last string
	for time.Since(start) < refWait {
		ts, err := l.tasks(from, service)
		now := time.Since(start)
		if err != nil {
			last = err.Error()
			time.Sleep(100 * time.Millisecond)
			continue
		}
		running := 0
		var desc []string
		for _, tk := range ts {
			desc = append(desc, tk.node+":"+tk.state)
			if strings.HasPrefix(tk.state, "Running") && !down[tk.node] {
				running++
				if _, dup := seen[tk.id]; !dup {
					seen[tk.id] = now
				}
			}
		}
		if running == want && len(ts) == want {
			return seen
		}
		last = strings.Join(desc, " ")
		time.Sleep(100 * time.Millisecond)
	}
	l.t.Fatalf("%d tasks of %s never all Running off %v; last: %s", want, service, keys(down), last)
	return nil
}

// waitNoContainers polls until no node but those in down runs a container.
func (l *swarmLab) waitNoContainers(down map[string]bool) {
	l.t.Helper()
	deadline := time.Now().Add(refWait)
	for time.Now().Before(deadline) {
		n := 0
		for _, nd := range l.nodes {
			if down[nd.name] {
				continue
			}
			out, err := l.try(nd, "ps", "-aq")
			if err != nil {
				n++
				continue
			}
			n += len(strings.Fields(out))
		}
		if n == 0 {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	l.t.Fatal("containers never went away")
}

// kill does what `shoal lab kill` does to a shoal node, at once: cut its
// link to the bridge and SIGKILL dockerd, its containerd, every shim and
// every container process of the node.
func (l *swarmLab) kill(nd *swarmNode) {
	l.t.Helper()
	l.ip("-n", l.bridge, "link", "set", nd.veth, "down")
	for _, pid := range l.nodePIDs(nd) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	select {
	case <-nd.done:
	case <-time.After(30 * time.Second):
		l.t.Fatalf("dockerd on %s outlived SIGKILL", nd.name)
	}
}

// heal reconnects nd and starts its dockerd again on the same data, as
// `shoal lab heal` restarts a killed agent.
func (l *swarmLab) heal(nd *swarmNode) {
	l.t.Helper()
	l.waitPIDsGone(nd)
	l.ip("-n", l.bridge, "link", "set", nd.veth, "up")
	l.startDaemon(nd)
	l.waitDaemon(nd)
}

// nodePIDs are nd's processes: those whose command line names a path in
// nd.dir (dockerd, containerd, shims) and those in nd's cgroups (the
// containers).
func (l *swarmLab) nodePIDs(nd *swarmNode) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), nd.dir+"/") {
			pids = append(pids, pid)
		}
	}
	for _, d := range cgroupDirs(l.cgroupParent(nd)) {
		_ = filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() || e.Name() != "cgroup.procs" {
				return nil
			}
			b, _ := os.ReadFile(p)
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil && !slices.Contains(pids, pid) {
					pids = append(pids, pid)
				}
			}
			return nil
		})
	}
	return pids
}

func (l *swarmLab) waitPIDsGone(nd *swarmNode) {
	l.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		pids := l.nodePIDs(nd)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.t.Errorf("processes of %s still alive: %v", nd.name, l.nodePIDs(nd))
}

// cgroupDirs is the cgroup named parent in every mounted hierarchy.
func cgroupDirs(parent string) []string {
	var dirs []string
	hs, _ := os.ReadDir("/sys/fs/cgroup")
	for _, h := range hs {
		d := filepath.Join("/sys/fs/cgroup", h.Name(), parent)
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// teardown kills every process of the lab, removes its cgroups, any mount
// under its directory, its namespaces and its directory, then checks the
// host for leftovers.
func (l *swarmLab) teardown() {
	var socks []string
	for _, nd := range l.nodes {
		pids := l.nodePIDs(nd)
		socks = append(socks, lab.ShimSockets(pids)...)
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for _, nd := range l.nodes {
		l.waitPIDsGone(nd)
		if nd.done != nil {
			select {
			case <-nd.done:
			case <-time.After(10 * time.Second):
				l.t.Errorf("dockerd of %s never exited", nd.name)
			}
		}
	}
	for _, s := range socks {
		_ = os.Remove(s)
	}
	for _, nd := range l.nodes {
		for _, d := range cgroupDirs(l.cgroupParent(nd)) {
			removeCgroupTree(l.t, d)
		}
	}
	for _, m := range mountsUnder(l.dir) {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			l.t.Errorf("unmount %s: %v", m, err)
		}
	}
	for _, nd := range l.nodes {
		_ = exec.Command("ip", "netns", "del", nd.ns).Run()
	}
	_ = exec.Command("ip", "netns", "del", l.bridge).Run()
	if err := os.RemoveAll(l.dir); err != nil {
		l.t.Errorf("remove %s: %v", l.dir, err)
	}
	if left := refLeftovers(l.tag, l.dir); len(left) > 0 {
		l.t.Errorf("reference lab left behind: %s", strings.Join(left, "; "))
	}
}

// removeCgroupTree removes a cgroup directory, children first.
func removeCgroupTree(t *testing.T, root string) {
	var dirs []string
	_ = filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err == nil && e.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("remove cgroup %s: %v", dirs[i], err)
		}
	}
}

// mountsUnder lists the host's mount points under dir, deepest first.
func mountsUnder(dir string) []string {
	fh, err := os.Open("/proc/self/mounts")
	if err != nil {
		return nil
	}
	defer fh.Close()
	var ms []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 1 && strings.HasPrefix(f[1], dir+"/") {
			ms = append(ms, f[1])
		}
	}
	slices.SortFunc(ms, func(a, b string) int { return len(b) - len(a) })
	return ms
}

// refLeftovers checks the host for anything of the lab tagged tag: a
// namespace, a link, a route or an iptables rule in the host namespace, a
// mount, a process or a cgroup.
func refLeftovers(tag, dir string) []string {
	var left []string
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil && strings.Contains(string(out), tag) {
		left = append(left, "namespace "+tag+"*")
	}
	for _, c := range [][]string{{"ip", "link"}, {"ip", "route"}, {"iptables", "-S"}} {
		out, _ := exec.Command(c[0], c[1:]...).CombinedOutput()
		for _, bad := range []string{tag, "docker0", "docker_gwbridge", refSubnet + ".", "DOCKER"} {
			if strings.Contains(string(out), bad) {
				left = append(left, fmt.Sprintf("%q in host `%s`", bad, strings.Join(c, " ")))
			}
		}
	}
	if ms := mountsUnder(dir); len(ms) > 0 {
		left = append(left, "mounts "+strings.Join(ms, " "))
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && strings.Contains(string(b), dir+"/") {
			left = append(left, "process "+e.Name())
		}
	}
	if ds, _ := filepath.Glob("/sys/fs/cgroup/*/" + tag + "*"); len(ds) > 0 {
		left = append(left, "cgroups "+strings.Join(ds, " "))
	}
	return left
}

func (l *swarmLab) dumpLogs() {
	for _, nd := range l.nodes {
		b, err := os.ReadFile(filepath.Join(nd.dir, "dockerd.log"))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		l.t.Logf("dockerd %s (last %d lines):\n%s", nd.name, len(lines), strings.Join(lines, "\n"))
	}
}

// keepLogs copies every node's dockerd log to dir (KEEPLOGS, as the shoal
// lab tests do) before the lab directory goes.
func (l *swarmLab) keepLogs(dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		l.t.Errorf("keep logs: %v", err)
		return
	}
	for _, nd := range l.nodes {
		b, err := os.ReadFile(filepath.Join(nd.dir, "dockerd.log"))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, nd.ns+".log"), b, 0o644)
		}
		if err != nil {
			l.t.Errorf("keep log of %s: %v", nd.name, err)
		}
	}
}
