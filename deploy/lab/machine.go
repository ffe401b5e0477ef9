package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shoal-dev/shoal/deploy"
)

// A machines lab (Config.Machines) runs every node as a Debian 12 systemd
// machine (systemd-nspawn) that joins the node's network namespace, so the
// lab's addressing, bridge, faults and safety rules stay as they are. Each
// machine is provisioned by deploy/vagrant/provision.sh with the settings the
// Vagrantfile gives a VM, runs its own Debian containerd, and runs the agent
// as the shoal-agent systemd unit with /etc/shoal/agent.yaml: the install a
// Vagrant user gets, tested on one host.

// Paths inside a machine: the checkout the Vagrantfile rsyncs to /shoal.
const machineSrc = "/shoal"

// machineBoot bounds a machine's boot and its provisioning.
const machineBoot = 3 * time.Minute

func machineName(lab, node string) string { return nodeNetns(lab, node) }
func machineDir(n Node) string            { return filepath.Join(n.DataDir, "machine") }
func machineRootMount(n Node) string      { return filepath.Join(machineDir(n), "root") }
func machineSrcDir(l *Lab) string         { return filepath.Join(l.Dir, "src") }
func machineSecrets(l *Lab) string        { return filepath.Join(l.Dir, "secrets") }

// propagateDir is what systemd-nspawn keeps on the host for a machine; it
// removes it on a clean exit, not after SIGKILL.
func propagateDir(machine string) string {
	return filepath.Join("/run/systemd/nspawn/propagate", machine)
}

// buildMachines makes the root, the shared settings and one machine per
// node, provisions them all at once (as `vagrant up --parallel` would) and
// waits for the fleet.
func buildMachines(ctx context.Context, cfg Config, l *Lab) error {
	packages, err := machinePackages(deploy.ProvisionScript)
	if err != nil {
		return err
	}
	mirror := cfg.MachineMirror
	if mirror == "" {
		if mirror, err = hostMirror("/etc/apt"); err != nil {
			return err
		}
	}
	for _, tool := range []string{"systemd-nspawn", "nsenter"} {
		if _, err := lookPath(tool); err != nil {
			return err
		}
	}
	// Before the root's build, which is long on a cold cache: a host
	// that cannot run nspawn says so at once.
	if err := tryNspawn(ctx); err != nil {
		return err
	}
	start := time.Now()
	root, built, err := ensureMachineRoot(ctx, cfg.MachineCache, mirror, packages, cfg.Progress)
	if err != nil {
		return err
	}
	if built {
		fmt.Fprintf(cfg.Progress, "lab %s: machine root built in %s\n", l.Name, time.Since(start).Round(time.Second))
	}
	l.MachineRoot = root
	if err := writeMachineSource(l, cfg.AgentBinary); err != nil {
		return err
	}
	settings, err := newFleetSecrets(l, cfg.AgentBinary, cfg.MachineTLS)
	if err != nil {
		return err
	}
	if err := l.save(); err != nil {
		return err
	}

	for i := range l.Nodes {
		n := &l.Nodes[i]
		if err := mountMachineRoot(l, *n); err != nil {
			return fmt.Errorf("machine %s: %w", n.Name, err)
		}
		pid, err := startMachine(l, *n)
		if err != nil {
			return fmt.Errorf("machine %s: %w", n.Name, err)
		}
		n.PID = pid
		if err := l.save(); err != nil {
			return err
		}
	}
	fmt.Fprintf(cfg.Progress, "lab %s: %d machines booting, provisioning each with provision.sh (logs in %s/nK/)\n", l.Name, len(l.Nodes), l.Dir)

	var wg sync.WaitGroup
	errs := make([]error, len(l.Nodes))
	for i, n := range l.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bctx, cancel := context.WithTimeout(ctx, machineBoot)
			defer cancel()
			if err := waitBooted(bctx, n); err != nil {
				errs[i] = fmt.Errorf("machine %s: %w", n.Name, err)
				return
			}
			if err := provisionMachine(bctx, l, n, settings.env(l, i)); err != nil {
				errs[i] = fmt.Errorf("machine %s: %w", n.Name, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return waitReady(ctx, l, cfg.Progress, cfg.ReadyTimeout)
}

// writeMachineSource lays out what provision.sh reads from the checkout
// ($SHOAL_SRC): bin/shoal and deploy/, the bytes built into this binary.
func writeMachineSource(l *Lab, agentBinary string) error {
	src := machineSrcDir(l)
	files := map[string][]byte{
		"deploy/vagrant/provision.sh":        deploy.ProvisionScript,
		"deploy/systemd/shoal-agent.service": deploy.AgentUnit,
	}
	for rel, data := range files {
		p := filepath.Join(src, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("machine source: %w", err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("machine source: %w", err)
		}
	}
	return copyFile(agentBinary, filepath.Join(src, "bin", "shoal"), 0o755)
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("copy %s: %w", from, err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return fmt.Errorf("copy %s: %w", from, err)
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("copy %s: %w", from, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", from, to, err)
	}
	return out.Close()
}

// fleetSecrets are the settings the Vagrantfile makes once per fleet.
type fleetSecrets struct {
	gossipKey, token string
	tlsDir           string // "" without TLS
}

// newFleetSecrets makes the gossip key and the API token as the Vagrantfile
// does, and with tls a CA and one certificate per node made by `shoal tls`.
func newFleetSecrets(l *Lab, bin string, tls bool) (fleetSecrets, error) {
	dir := machineSecrets(l)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fleetSecrets{}, fmt.Errorf("secrets: %w", err)
	}
	key, token := make([]byte, 32), make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fleetSecrets{}, fmt.Errorf("gossip key: %w", err)
	}
	if _, err := rand.Read(token); err != nil {
		return fleetSecrets{}, fmt.Errorf("token: %w", err)
	}
	s := fleetSecrets{gossipKey: base64.StdEncoding.EncodeToString(key), token: base64.RawURLEncoding.EncodeToString(token)}
	l.TokenFile = filepath.Join(dir, "token")
	if err := os.WriteFile(l.TokenFile, []byte(s.token+"\n"), 0o600); err != nil {
		return fleetSecrets{}, fmt.Errorf("token: %w", err)
	}
	if !tls {
		return s, nil
	}
	s.tlsDir = filepath.Join(dir, "tls")
	run := func(args ...string) error {
		out, err := exec.Command(bin, append(append([]string{"tls"}, args...), "--dir", s.tlsDir)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("shoal tls %s: %v: %s", args[0], err, out)
		}
		return nil
	}
	if err := run("ca"); err != nil {
		return fleetSecrets{}, err
	}
	for i := range l.Nodes {
		n := &l.Nodes[i]
		if err := run("cert", "--name", n.Name, "--ip", n.Addr); err != nil {
			return fleetSecrets{}, err
		}
		n.Scheme = "https"
	}
	l.CAFile = filepath.Join(s.tlsDir, "ca.pem")
	return s, nil
}

// env is provision.sh's settings for node i, the ones the Vagrantfile
// gives VM i: the first Servers nodes hold seats, every node joins them.
func (s fleetSecrets) env(l *Lab, i int) []string {
	n := l.Nodes[i]
	var join []string
	for k := 0; k < l.Servers; k++ {
		join = append(join, fmt.Sprintf("%s:%d", l.Nodes[k].Addr, GossipPort))
	}
	server := "0"
	if i < l.Servers {
		server = "1"
	}
	env := []string{
		"SHOAL_NAME=" + n.Name,
		"SHOAL_IP=" + n.Addr,
		"SHOAL_SERVER=" + server,
		"SHOAL_BOOTSTRAP_EXPECT=" + strconv.Itoa(l.Servers),
		"SHOAL_JOIN=" + strings.Join(join, ","),
		"SHOAL_ENCRYPT=" + s.gossipKey,
		"SHOAL_TOKEN=" + s.token,
		"SHOAL_SRC=" + machineSrc,
		// The Vagrantfile's site settings for one site: none.
		"SHOAL_ZONE=", "SHOAL_SEAT_ZONE=", "SHOAL_GOSSIP_PROFILE=", "SHOAL_LINK_DELAY=",
	}
	if s.tlsDir != "" {
		for k, file := range map[string]string{"SHOAL_TLS_CA": "ca.pem", "SHOAL_TLS_CERT": n.Name + ".pem", "SHOAL_TLS_KEY": n.Name + "-key.pem"} {
			b, _ := os.ReadFile(filepath.Join(s.tlsDir, file))
			env = append(env, k+"="+strings.TrimSpace(string(b)))
		}
	}
	return env
}

// mountMachineRoot gives node a copy-on-write view of the cached root: an
// overlay whose upper layer is the node's own. containerd's directory is a
// plain one bound over it, since its overlay snapshotter cannot stack on
// an overlay.
func mountMachineRoot(l *Lab, n Node) error {
	d := machineDir(n)
	for _, sub := range []string{"upper", "work", "root", "containerd"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			return err
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", l.MachineRoot, filepath.Join(d, "upper"), filepath.Join(d, "work"))
	if err := unix.Mount("overlay", machineRootMount(n), "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay root at %s: %w", machineRootMount(n), err)
	}
	// The Vagrantfile names each VM's host after its node; systemd sets the
	// hostname from this file at boot.
	if err := os.WriteFile(filepath.Join(machineRootMount(n), "etc", "hostname"), []byte(n.Name+"\n"), 0o644); err != nil {
		return fmt.Errorf("hostname: %w", err)
	}
	return nil
}

// startMachine boots node's machine in the node's network namespace. The
// capabilities, a writable cgroup tree of its own (machinecgroup.go) and
// the keyring calls are what runc inside needs to run containers.
func startMachine(l *Lab, n Node) (int, error) {
	network := "--network-namespace-path=" + filepath.Join(netnsDir, n.Netns)
	if n.Netns == "" {
		network = "--private-network" // a machine of its own, for tests
	}
	machine := machineName(l.Name, n.Name)
	var cgroupBinds, procs []string
	register := []string{} // the host's machined gives it a delegated scope
	if !hostRunsSystemd() {
		// No machined or systemd runs the host: nothing to register
		// with, and the machine's cgroups are made here.
		register = []string{"--register=no", "--keep-unit"}
		var err error
		if cgroupBinds, procs, err = makeMachineCgroups(machine, filepath.Join(machineDir(n), "cgroup")); err != nil {
			return 0, err
		}
	}
	// A VM's /proc/sys/net is writable (provision.sh turns on forwarding);
	// nspawn keeps it read-only in a network namespace it did not make
	// unless told.
	args := append(append([]string{"env", "SYSTEMD_NSPAWN_API_VFS_WRITABLE=network", "systemd-nspawn", "--quiet", "--boot",
		"--directory=" + machineRootMount(n),
		"--machine=" + machine,
		"--hostname=" + n.Name,
	}, register...), network,
		"--capability=all",
		"--system-call-filter=@keyring",
		"--bind="+filepath.Join(machineDir(n), "containerd")+":/var/lib/containerd",
		"--bind-ro="+machineSrcDir(l)+":"+machineSrc,
		"--console=pipe", "--resolv-conf=off", "--timezone=off", "--link-journal=no",
	)
	args = append(args, cgroupBinds...)
	if len(procs) > 0 {
		// Start in the machine's cgroups, so nspawn roots the machine's
		// cgroup namespace there.
		args = append([]string{"/bin/sh", "-c", `for p in ` + strings.Join(procs, " ") + `; do echo $$ > "$p" || exit 1; done; exec "$@"`, "sh"}, args...)
	}
	return startDetached("", args, n.Log)
}

// machineLeader is the machine's init (its PID 1), the child of the
// systemd-nspawn process; 0 while there is none.
func machineLeader(nspawn int) int {
	if !alive(nspawn) {
		return 0
	}
	for _, pid := range allPIDs() {
		if ppid(pid) == nspawn {
			return pid
		}
	}
	return 0
}

func ppid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	v, _ := strconv.Atoi(f[1])
	return v
}

// machineCommand runs argv inside node's machine, in all of its namespaces,
// with a clean root environment plus env, as a shell in the VM would.
func machineCommand(ctx context.Context, n Node, env, argv []string) (*exec.Cmd, error) {
	leader := machineLeader(n.PID)
	if leader == 0 {
		return nil, fmt.Errorf("machine %s is not running", n.Name)
	}
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"--target", strconv.Itoa(leader), "--all", "--"}, argv...)...)
	cmd.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"}, env...)
	return cmd, nil
}

// waitBooted waits until the machine's systemd has finished booting.
func waitBooted(ctx context.Context, n Node) error {
	var last string
	for {
		cmd, err := machineCommand(ctx, n, nil, []string{"systemctl", "is-system-running", "--wait"})
		if err == nil {
			out, _ := cmd.Output()
			last = strings.TrimSpace(string(out))
			if last == "running" {
				return nil
			}
			if last == "degraded" {
				failed, _ := machineOutput(ctx, n, "systemctl", "--failed", "--no-legend")
				return fmt.Errorf("booted degraded, failed units:\n%s", failed)
			}
		} else if !alive(n.PID) {
			return fmt.Errorf("systemd-nspawn exited (console: %s%s)", n.Log, tail(n.Log, 15))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not booted (last state %q): %w", last, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func machineOutput(ctx context.Context, n Node, argv ...string) (string, error) {
	cmd, err := machineCommand(ctx, n, nil, argv)
	if err != nil {
		return "", err
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// provisionMachine runs deploy/vagrant/provision.sh inside the machine,
// as root, with the Vagrantfile's settings.
func provisionMachine(ctx context.Context, l *Lab, n Node, env []string) error {
	logPath := filepath.Join(n.DataDir, "provision.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("provision log: %w", err)
	}
	defer logf.Close()
	cmd, err := machineCommand(ctx, n, env, []string{"/bin/sh", machineSrc + "/deploy/vagrant/provision.sh"})
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Run(); err != nil {
		// %v: the CLI would take a wrapped exit status for a command of
		// its own and exit with it silently.
		return fmt.Errorf("provision.sh: %v (log: %s%s)", err, logPath, tail(logPath, 20))
	}
	return nil
}

// powerOffMachine cuts node's power: SIGKILL to the machine's init ends
// every process in it at once (containerd, shims, containers, the agent),
// and systemd-nspawn exits after it.
func powerOffMachine(ctx context.Context, n Node) error {
	leader := machineLeader(n.PID)
	if leader == 0 {
		return fmt.Errorf("machine %s is not running", n.Name)
	}
	_ = syscall.Kill(leader, syscall.SIGKILL)
	if !waitGone(ctx, []int{leader, n.PID}, 30*time.Second) {
		return fmt.Errorf("machine %s survived SIGKILL of its init", n.Name)
	}
	return nil
}

// stopMachines shuts down every machine of the lab in dir: SIGTERM to
// systemd-nspawn asks the machine to power off (its units stop in order),
// and what has not stopped after grace is killed with its init.
func stopMachines(ctx context.Context, dir string, grace time.Duration) error {
	var nspawns []int
	for _, pid := range processesMentioningDir(dir) {
		if args := argv(pid); len(args) > 0 && strings.HasSuffix(args[0], "systemd-nspawn") {
			nspawns = append(nspawns, pid)
		}
	}
	if len(nspawns) == 0 {
		return nil
	}
	for _, pid := range nspawns {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	if waitGone(ctx, nspawns, grace) {
		return nil
	}
	var victims []int
	for _, pid := range nspawns {
		if leader := machineLeader(pid); leader > 0 {
			victims = append(victims, leader)
		}
		victims = append(victims, pid)
	}
	return stopProcesses(ctx, victims, 0)
}

// machineGrace is how long a machine gets to power off cleanly on Down.
const machineGrace = 20 * time.Second

// machineRemnants lists what systemd-nspawn left on the host for lab
// name's machines (it removes these itself unless it was killed).
func machineRemnants(name string) []string {
	var out []string
	matches, _ := filepath.Glob(propagateDir(labNetns(name) + "-n*"))
	re := ownedContainerdNSRE(name) // shoal-NAME-nK, as machine names are
	for _, m := range matches {
		if re.MatchString(filepath.Base(m)) {
			out = append(out, m)
		}
	}
	return out
}

// removeMachineRemnants removes what machineRemnants lists.
func removeMachineRemnants(name string) error {
	var errs []error
	for _, p := range machineRemnants(name) {
		if err := unmountUnder(p); err != nil {
			errs = append(errs, err)
		}
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", p, err))
		}
	}
	for _, cg := range machineCgroups(name) {
		errs = append(errs, removeCgroupTree(cg))
	}
	// The parent goes with the last machine on the host; another lab's
	// machines keep it (rmdir fails then, which is fine).
	bases, _ := machineCgroupBases()
	for _, b := range bases {
		_ = os.Remove(b.host)
	}
	return errors.Join(errs...)
}

// bootMachineAgain powers node's machine back on after powerOffMachine, on
// the root it had: the agent unit is enabled, so systemd starts it.
func bootMachineAgain(l *Lab, n Node) error {
	if alive(n.PID) && machineLeader(n.PID) > 0 {
		return nil
	}
	pid, err := startMachine(l, n)
	if err != nil {
		return fmt.Errorf("lab %s boot %s: %w", l.Name, n.Name, err)
	}
	for i := range l.Nodes {
		if l.Nodes[i].Name == n.Name {
			l.Nodes[i].PID = pid
		}
	}
	return l.save()
}
