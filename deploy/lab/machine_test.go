package lab

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/deploy"
)

// The machines' root preinstalls exactly what provision.sh installs, read
// from the script itself: a package added there reaches the machines too.
func TestMachinePackagesComeFromProvisionScript(t *testing.T) {
	got, err := machinePackages(deploy.ProvisionScript)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"containerd", "runc", "iproute2", "busybox-static", "curl", "systemd-sysv"} {
		if !slices.Contains(got, want) {
			t.Errorf("packages %v lack %s", got, want)
		}
	}
	if _, err := machinePackages([]byte("#!/bin/sh\napt-get install containerd\n")); err == nil {
		t.Error("a script without a packages line was accepted")
	}
	other, _ := machinePackages([]byte("packages=\"containerd runc nftables\"\n"))
	if machineRootKey("http://m/debian", got) == machineRootKey("http://m/debian", other) {
		t.Error("two package lists share one cached root")
	}
	if machineRootKey("http://a/debian", got) == machineRootKey("http://b/debian", got) {
		t.Error("two mirrors share one cached root")
	}
}

func TestHostMirrorReadsAptSources(t *testing.T) {
	dir := t.TempDir()
	if _, err := hostMirror(dir); err == nil {
		t.Fatal("no sources at all gave a mirror")
	}
	if err := os.WriteFile(filepath.Join(dir, "sources.list"), []byte(
		"# comment\ndeb http://security.example/debian-security bookworm-security main\ndeb [arch=amd64 signed-by=/k.gpg] http://old.example/debian bookworm main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := hostMirror(dir); err != nil || got != "http://old.example/debian" {
		t.Errorf("sources.list: got %q, %v", got, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "sources.list.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sources.list.d", "debian.sources"), []byte(`Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
# a comment: with a colon
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := hostMirror(dir); err != nil || got != "http://mirror.example/debian" {
		t.Errorf("debian.sources: got %q, %v", got, err)
	}
}

// A machine gets exactly the settings the Vagrantfile gives a VM, so the
// two cannot drift apart without this failing.
func TestMachineSettingsAreTheVagrantfiles(t *testing.T) {
	vf, err := os.ReadFile("../vagrant/Vagrantfile")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range regexp.MustCompile(`"(SHOAL_[A-Z_]+)" =>`).FindAllSubmatch(vf, -1) {
		want = append(want, string(m[1]))
	}
	l := &Lab{Servers: 3}
	for k := 1; k <= 4; k++ {
		l.Nodes = append(l.Nodes, Node{Name: nodeName(k), Addr: fmt.Sprintf("10.250.0.%d", 10+k)})
	}
	tlsDir := t.TempDir()
	for _, f := range []string{"ca.pem", "n4.pem", "n4-key.pem"} {
		if err := os.WriteFile(filepath.Join(tlsDir, f), []byte("PEM "+f+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := fleetSecrets{gossipKey: "k", token: "t", tlsDir: tlsDir}.env(l, 3)
	got := map[string]string{}
	var keys []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sort.Strings(want)
	if !slices.Equal(keys, want) {
		t.Errorf("machine settings %v, Vagrantfile's %v", keys, want)
	}
	if got["SHOAL_SERVER"] != "0" || got["SHOAL_BOOTSTRAP_EXPECT"] != "3" || strings.Count(got["SHOAL_JOIN"], ",") != 2 {
		t.Errorf("node 4 of 3 servers: %v", got)
	}
	if got["SHOAL_TLS_CERT"] != "PEM n4.pem" || got["SHOAL_SRC"] != machineSrc {
		t.Errorf("TLS or source settings: %v", got)
	}
}

func TestMachinesConfigRefusesWhatDoesNotApply(t *testing.T) {
	for _, cfg := range []Config{
		{Name: "x", Nodes: 1, AgentBinary: "/bin/true", Machines: true, MaxPods: 3},
		{Name: "x", Nodes: 1, AgentBinary: "/bin/true", Machines: true, AgentArgs: []string{"--x"}},
		{Name: "x", Nodes: 1, AgentBinary: "/bin/true", MachineTLS: true},
		{Name: "x", Nodes: 1, AgentBinary: "/bin/true", Machines: true, NodeMemory: []string{"1Gi"}},
		{Name: "x", Nodes: 1, AgentBinary: "/bin/true", Machines: true, PodCIDR: "10.9.0.0/16"},
	} {
		if _, err := cfg.withDefaults(); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	cfg, err := Config{Name: "x", Nodes: 1, AgentBinary: "/bin/true", Machines: true}.withDefaults()
	if err != nil || cfg.MachineCache != DefaultMachineCache {
		t.Errorf("defaults: %v, cache %q", err, cfg.MachineCache)
	}
}

// One machine, on its own private network instead of a lab's: the cached
// root boots under systemd, provision.sh installs the agent from the
// embedded files with no mirror in reach, and the shoal-agent unit serves a
// one-node fleet, its logs in the machine's journal. Root only; it builds
// the root in DefaultMachineCache when missing (about a minute).
func TestMachineBootsAndIsProvisioned(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, tool := range []string{"systemd-nspawn", "debootstrap", "nsenter"} {
		if _, err := lookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	if os.Getenv("SHOAL_MACHINE_TEST") != "1" {
		t.Skip("set SHOAL_MACHINE_TEST=1: boots a machine (under the lab lock)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "shoal")
	if out, err := exec.Command("go", "build", "-tags", "no_dynamic_plugins", "-o", bin, "../../cmd/shoal").CombinedOutput(); err != nil {
		t.Fatalf("build shoal: %v\n%s", err, out)
	}
	packages, err := machinePackages(deploy.ProvisionScript)
	if err != nil {
		t.Fatal(err)
	}
	mirror, err := hostMirror("/etc/apt")
	if err != nil {
		t.Skip(err)
	}
	root, _, err := ensureMachineRoot(ctx, DefaultMachineCache, mirror, packages, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	stateRoot := shortStateRoot(t)
	name := uniqueName(t)
	dir := stateDir(stateRoot, name)
	l := &Lab{Name: name, StateRoot: stateRoot, Dir: dir, Servers: 1, MachineRoot: root}
	l.Nodes = []Node{{Name: "n1", Addr: "127.0.0.1", DataDir: filepath.Join(dir, "n1"), Log: filepath.Join(dir, "n1", "console.log")}}
	n := &l.Nodes[0]
	if err := os.MkdirAll(n.DataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stopMachines(context.Background(), dir, machineGrace); err != nil {
			t.Error(err)
		}
		if err := unmountUnder(dir); err != nil {
			t.Error(err)
		}
		if err := removeMachineRemnants(name); err != nil {
			t.Error(err)
		}
		if left := append(machineRemnants(name), machineCgroups(name)...); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
		if mps, _ := mountsUnder(dir); len(mps) > 0 {
			t.Errorf("mounts left: %v", mps)
		}
	})
	if err := writeMachineSource(l, bin); err != nil {
		t.Fatal(err)
	}
	secrets, err := newFleetSecrets(l, bin, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := mountMachineRoot(l, *n); err != nil {
		t.Fatal(err)
	}
	if n.PID, err = startMachine(l, *n); err != nil {
		t.Fatal(err)
	}
	if err := waitBooted(ctx, *n); err != nil {
		t.Fatal(err)
	}
	if err := provisionMachine(ctx, l, *n, secrets.env(l, 0)); err != nil {
		t.Fatal(err)
	}
	for _, check := range [][]string{
		{"systemctl", "is-active", "shoal-agent", "containerd"},
		{"systemctl", "is-enabled", "shoal-agent"},
		{"shoal", "get", "nodes"},
		{"journalctl", "-u", "shoal-agent", "--no-pager", "-n", "3"},
		// runc inside the machine runs a container in the machine's cgroups.
		{"ctr", "-n", "shoal", "run", "--rm", "shoal.local/busybox:1", "cgcheck", "/bin/busybox", "cat", "/proc/self/cgroup"},
	} {
		out, err := machineOutput(ctx, *n, check...)
		t.Logf("%s:\n%s", strings.Join(check, " "), out)
		if err != nil {
			t.Fatalf("%s: %v", strings.Join(check, " "), err)
		}
	}
	// A power cut and a boot: the agent comes back by itself (the unit is
	// enabled), on a machine whose containers are gone.
	if err := powerOffMachine(ctx, *n); err != nil {
		t.Fatal(err)
	}
	if _, err := machineOutput(ctx, *n, "true"); err == nil {
		t.Fatal("the machine still runs after the power cut")
	}
	if err := bootMachineAgain(l, *n); err != nil {
		t.Fatal(err)
	}
	*n = l.Nodes[0]
	if err := waitBooted(ctx, *n); err != nil {
		t.Fatal(err)
	}
	out, err := machineOutput(ctx, *n, "systemctl", "is-active", "shoal-agent")
	if err != nil || strings.TrimSpace(out) != "active" {
		t.Fatalf("after the boot shoal-agent is %q (%v)", out, err)
	}
	if !hostRunsSystemd() {
		// The unit's cgroup is the machine's own, not one the host's other
		// machines share.
		cgs := machineCgroups(name)
		found := false
		for _, cg := range cgs {
			if _, err := os.Stat(filepath.Join(cg, "payload", "system.slice", "shoal-agent.service")); err == nil {
				found = true
			}
		}
		if !found {
			t.Errorf("no system.slice/shoal-agent.service in the machine's cgroups %v", cgs)
		}
	}
}
