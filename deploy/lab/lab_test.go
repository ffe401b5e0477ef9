package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

func TestUpBuildsReachableFleetAndDownRemovesEverything(t *testing.T) {
	requireRoot(t)
	agent := buildFakeAgent(t)
	root := shortStateRoot(t)
	name := uniqueName(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var progress bytes.Buffer
	downOnCleanup(t, root, name)
	l, err := Up(ctx, Config{
		Name: name, Nodes: 3, StateRoot: root, AgentBinary: agent,
		NodeMemory: []string{"1.25Gi", "2Gi"}, Progress: &progress, ReadyTimeout: time.Minute,
	})
	if err != nil {
		t.Fatalf("Up: %v\nprogress:\n%s", err, progress.String())
	}
	if !strings.Contains(progress.String(), "3/3 nodes Ready") {
		t.Errorf("progress never showed the fleet Ready:\n%s", progress.String())
	}
	if l.Nodes[0].Memory != "1.25Gi" || l.Nodes[2].Memory != "2Gi" || l.Servers != 3 {
		t.Errorf("per-node settings: %+v servers %d", l.Nodes, l.Servers)
	}

	t.Run("host has only the directly connected lab link", func(t *testing.T) {
		checkHostSide(t, l)
	})
	t.Run("lab namespace bridges the host link and every node", func(t *testing.T) {
		checkBridge(t, l)
	})
	t.Run("node namespaces have loopback, eth0 and no default route", func(t *testing.T) {
		for _, n := range l.Nodes {
			checkNodeNetns(t, l, n)
		}
	})
	t.Run("every agent API answers from the host over the lab link", func(t *testing.T) {
		checkAgentsReachable(t, l)
	})
	t.Run("exec runs inside the node namespace", func(t *testing.T) {
		out, err := l.Exec(ctx, "n2", []string{"ip", "-o", "-4", "addr", "show", "dev", "eth0"})
		if err != nil {
			t.Fatalf("exec: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), l.Nodes[1].Addr+"/24") {
			t.Errorf("eth0 of n2 shows %q, want %s", out, l.Nodes[1].Addr)
		}
		if _, err := l.Exec(ctx, "n9", []string{"true"}); err == nil {
			t.Error("exec on a node that does not exist succeeded")
		}
		if _, err := l.Exec(ctx, "n1", []string{"false"}); err == nil {
			t.Error("a failing command reported success")
		}
	})
	t.Run("state file, Env and List describe the lab", func(t *testing.T) {
		loaded, err := Load(root, name)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(l)
		b, _ := json.Marshal(loaded)
		if !bytes.Equal(a, b) {
			t.Errorf("Load differs from Up's lab:\n%s\n%s", a, b)
		}
		want := fmt.Sprintf("export SHOAL_ADDR=http://%s:7080\nexport SHOAL_LAB=%s\n", l.Nodes[0].Addr, name)
		if l.Env() != want {
			t.Errorf("Env() = %q, want %q", l.Env(), want)
		}
		labs, err := List(root)
		if err != nil || len(labs) != 1 || labs[0].Name != name {
			t.Errorf("List = %v, %v", labs, err)
		}
	})
	t.Run("refuses a second lab of the same name", func(t *testing.T) {
		_, err := Up(ctx, Config{Name: name, Nodes: 1, StateRoot: root, AgentBinary: agent})
		if err == nil || !strings.Contains(err.Error(), "exists") {
			t.Fatalf("Up of an existing lab: %v", err)
		}
		if !netnsExists(l.Netns) || !linkExists(l.HostLink) {
			t.Error("the refused Up damaged the running lab")
		}
	})
	t.Run("refuses ranges that overlap a host route", func(t *testing.T) {
		other := uniqueName(t)
		for _, cfg := range []Config{
			{Name: other, Nodes: 1, StateRoot: t.TempDir(), AgentBinary: agent, LabCIDR: l.LabCIDR},
			{Name: other, Nodes: 1, StateRoot: t.TempDir(), AgentBinary: agent, PodCIDR: l.LabCIDR},
		} {
			_, err := Up(ctx, cfg)
			if err == nil {
				t.Fatalf("Up with %s overlapping the lab link was accepted", l.LabCIDR)
			}
			if !strings.Contains(err.Error(), l.LabCIDR) || !strings.Contains(err.Error(), l.HostLink) {
				t.Errorf("error does not name the range and the route: %v", err)
			}
			if netnsExists(labNetns(other)) || linkExists(hostLinkName(other)) {
				t.Error("a refused Up left namespaces or links")
			}
			if _, err := os.Stat(stateDir(cfg.StateRoot, other)); err == nil {
				t.Error("a refused Up left a state dir")
			}
		}
	})

	// Leftovers of the kind agents and users make: a pod namespace with a
	// process in it, and a lab exec that never ended.
	podNS := podNetnsPrefix(name, "n1") + "pod1"
	ns, err := createNetns(podNS)
	if err != nil {
		t.Fatal(err)
	}
	ns.Close()
	// A second copy stacked on the first, as a bind of the namespace
	// directory made after the namespace leaves one: Down takes both off.
	podPath := filepath.Join(netnsDir, podNS)
	if err := unix.Mount(podPath, podPath, "none", unix.MS_BIND, ""); err != nil {
		t.Fatalf("stack a copy on %s: %v", podPath, err)
	}
	if left, err := Leftovers(ctx, root, name, ""); err != nil || count(left, "netns mount "+podNS) != 2 {
		t.Fatalf("Leftovers = %v, %v: want both mounts of %s listed", left, err, podNS)
	}
	sleeper, err := startDetached(filepath.Join(netnsDir, podNS), []string{"sleep", "600"}, filepath.Join(t.TempDir(), "sleep.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stopProcesses(context.Background(), []int{sleeper}, 0) })
	// A guest with a service in it, as the e2e registry test leaves one
	// when it dies before its own cleanup.
	guestNS, guestAddr, err := l.AttachGuest()
	if err != nil {
		t.Fatalf("AttachGuest: %v", err)
	}
	if guestNS != GuestNetns(name) || guestAddr != offset(netip.MustParsePrefix(l.LabCIDR).Addr(), guestOffset) {
		t.Errorf("AttachGuest = %s %s", guestNS, guestAddr)
	}
	if out, err := exec.Command("ip", "-n", guestNS, "-o", "-4", "addr", "show", "dev", "eth0").CombinedOutput(); err != nil || !strings.Contains(string(out), guestAddr.String()+"/24") {
		t.Errorf("guest eth0: %v %s, want %s/24", err, out, guestAddr)
	}
	if _, _, err := l.AttachGuest(); err == nil {
		t.Error("a second AttachGuest succeeded")
	}
	guestSleeper, err := startDetached(filepath.Join(netnsDir, guestNS), []string{"sleep", "600"}, filepath.Join(t.TempDir(), "guest.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stopProcesses(context.Background(), []int{guestSleeper}, 0) })
	if left, err := Leftovers(ctx, root, name, ""); err != nil || !slices.Contains(left, "netns "+guestNS) {
		t.Errorf("Leftovers = %v, %v: want the guest listed while the lab is up", left, err)
	}
	execCtx, stopExec := context.WithCancel(ctx)
	defer stopExec()
	go func() { _, _ = l.Exec(execCtx, "n3", []string{"sleep", "600"}) }()

	pids := []int{l.ContainerdPID, sleeper, guestSleeper}
	for _, n := range l.Nodes {
		pids = append(pids, n.PID)
	}
	if err := Down(ctx, root, name); err != nil {
		t.Fatalf("Down: %v", err)
	}
	assertGone(t, root, name, pids)
	if err := Down(ctx, root, name); err != nil {
		t.Fatalf("second Down: %v", err)
	}
}

func checkHostSide(t *testing.T, l *Lab) {
	t.Helper()
	link, err := netlink.LinkByName(l.HostLink)
	if err != nil {
		t.Fatalf("host link %s: %v", l.HostLink, err)
	}
	if link.Attrs().OperState != netlink.OperUp {
		t.Errorf("host link %s is %s", l.HostLink, link.Attrs().OperState)
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
	if err != nil || len(addrs) != 1 || addrs[0].IPNet.String() != l.HostAddr+"/24" {
		t.Errorf("host link addresses %v (%v), want %s/24", addrs, err, l.HostAddr)
	}
	routes, err := hostRoutes()
	if err != nil {
		t.Fatal(err)
	}
	labNet, podNet := netip.MustParsePrefix(l.LabCIDR), netip.MustParsePrefix(l.PodCIDR)
	for _, r := range routes {
		if r.Dst.Overlaps(podNet) {
			t.Errorf("host route %s toward the pod range", r.Desc)
		}
		if r.Dst.Overlaps(labNet) && r.Desc != l.LabCIDR+" dev "+l.HostLink {
			t.Errorf("host route %s toward the lab range besides the lab link", r.Desc)
		}
	}
}

func checkBridge(t *testing.T, l *Lab) {
	t.Helper()
	ns, err := netns.GetFromName(l.Netns)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	br, err := h.LinkByName(bridgeName)
	if err != nil || br.Type() != "bridge" {
		t.Fatalf("bridge %s in %s: %v %v", bridgeName, l.Netns, br, err)
	}
	ports := []string{labHostPeer}
	for _, n := range l.Nodes {
		ports = append(ports, bridgePortName(n.Name))
	}
	for _, p := range ports {
		link, err := h.LinkByName(p)
		if err != nil {
			t.Errorf("port %s: %v", p, err)
			continue
		}
		if link.Attrs().MasterIndex != br.Attrs().Index {
			t.Errorf("port %s not on %s", p, bridgeName)
		}
	}
}

func checkNodeNetns(t *testing.T, l *Lab, n Node) {
	t.Helper()
	ns, err := netns.GetFromName(n.Netns)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil || lo.Attrs().Flags&(1<<0) == 0 {
		t.Errorf("%s: lo not up (%v)", n.Name, err)
	}
	eth, err := h.LinkByName(nodeIfName)
	if err != nil {
		t.Fatalf("%s: %v", n.Name, err)
	}
	addrs, _ := h.AddrList(eth, netlink.FAMILY_V4)
	if len(addrs) != 1 || addrs[0].IPNet.String() != n.Addr+"/24" {
		t.Errorf("%s: eth0 addresses %v, want %s/24", n.Name, addrs, n.Addr)
	}
	routes, err := h.RouteList(nil, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			t.Errorf("%s: default route %v", n.Name, r)
		}
	}
}

func checkAgentsReachable(t *testing.T, l *Lab) {
	t.Helper()
	ourMnt, _ := os.Readlink("/proc/self/ns/mnt")
	client := &http.Client{Timeout: 5 * time.Second}
	for _, n := range l.Nodes {
		resp, err := client.Get(n.APIURL() + "/healthz")
		if err != nil {
			t.Errorf("%s: %v", n.Name, err)
			continue
		}
		var h struct{ Name, MntNS, NetNS string }
		err = json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if err != nil {
			t.Errorf("%s: %v", n.Name, err)
			continue
		}
		if h.Name != n.Name {
			t.Errorf("%s answered as %q", n.Addr, h.Name)
		}
		// Pod namespaces the agent bind-mounts must be visible to
		// containerd, so the agent must share the host's mount namespace.
		if h.MntNS != ourMnt {
			t.Errorf("%s runs in mount namespace %s, want the host's %s", n.Name, h.MntNS, ourMnt)
		}
		id, _ := nsIDOf(filepath.Join(netnsDir, n.Netns))
		if h.NetNS != fmt.Sprintf("net:[%d]", id.ino) {
			t.Errorf("%s runs in %s, want %s's net:[%d]", n.Name, h.NetNS, n.Netns, id.ino)
		}
	}
}

func TestUpFailureRemovesWhatItMade(t *testing.T) {
	requireRoot(t)
	falseBin, err := exec.LookPath("false")
	if err != nil {
		t.Skip("needs false")
	}
	root := shortStateRoot(t)
	name := uniqueName(t)
	downOnCleanup(t, root, name)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err = Up(ctx, Config{Name: name, Nodes: 2, StateRoot: root, AgentBinary: falseBin, ReadyTimeout: 30 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("Up with agents that exit: %v", err)
	}
	assertGone(t, root, name, nil)
}

func TestDownAfterHalfFailedUpKeptForInspection(t *testing.T) {
	requireRoot(t)
	falseBin, err := exec.LookPath("false")
	if err != nil {
		t.Skip("needs false")
	}
	root := shortStateRoot(t)
	name := uniqueName(t)
	downOnCleanup(t, root, name)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err = Up(ctx, Config{Name: name, Nodes: 2, StateRoot: root, AgentBinary: falseBin, KeepOnFailure: true, ReadyTimeout: 30 * time.Second})
	if err == nil {
		t.Fatal("Up with agents that exit succeeded")
	}
	if !netnsExists(labNetns(name)) || !netnsExists(nodeNetns(name, "n2")) {
		t.Fatal("KeepOnFailure did not keep the namespaces")
	}
	l, err := Load(root, name)
	if err != nil {
		t.Fatal(err)
	}
	// Without the state file Down must still find everything by name.
	if err := os.Remove(statePath(root, name)); err != nil {
		t.Fatal(err)
	}
	if err := Down(ctx, root, name); err != nil {
		t.Fatalf("Down: %v", err)
	}
	assertGone(t, root, name, []int{l.ContainerdPID})
	if err := Down(ctx, root, name); err != nil {
		t.Fatalf("second Down: %v", err)
	}
}

func TestUpRefusesServiceCIDROverlappingHostRouteOrPodCIDR(t *testing.T) {
	routes, err := hostRoutes()
	if err != nil || len(routes) == 0 {
		t.Skipf("no host route to overlap (%v)", err)
	}
	root := t.TempDir()
	name := uniqueName(t)
	_, err = Up(context.Background(), Config{Name: name, Nodes: 1, StateRoot: root, AgentBinary: "/bin/true", ServiceCIDR: routes[0].Dst.String()})
	if err == nil {
		t.Fatalf("service CIDR %s equal to host route %s accepted", routes[0].Dst, routes[0].Desc)
	}
	if !strings.Contains(err.Error(), "service CIDR "+routes[0].Dst.String()) || !strings.Contains(err.Error(), routes[0].Desc) {
		t.Errorf("error does not name both: %v", err)
	}
	_, err = Up(context.Background(), Config{Name: name, Nodes: 1, StateRoot: root, AgentBinary: "/bin/true", ServiceCIDR: "10.244.128.0/20"})
	if err == nil || !strings.Contains(err.Error(), "service CIDR 10.244.128.0/20 overlaps pod CIDR 10.244.0.0/16") {
		t.Errorf("service CIDR inside the pod CIDR: %v", err)
	}
	if _, err := os.Stat(stateDir(root, name)); err == nil {
		t.Error("refused Up left a state dir")
	}
}

func TestUpRefusesPodCIDROverlappingHostRoute(t *testing.T) {
	routes, err := hostRoutes()
	if err != nil || len(routes) == 0 {
		t.Skipf("no host route to overlap (%v)", err)
	}
	root := t.TempDir()
	name := uniqueName(t)
	_, err = Up(context.Background(), Config{Name: name, Nodes: 1, StateRoot: root, AgentBinary: "/bin/true", PodCIDR: routes[0].Dst.String()})
	if err == nil {
		t.Fatalf("pod CIDR %s equal to host route %s accepted", routes[0].Dst, routes[0].Desc)
	}
	if !strings.Contains(err.Error(), "pod CIDR "+routes[0].Dst.String()) || !strings.Contains(err.Error(), routes[0].Desc) {
		t.Errorf("error does not name both: %v", err)
	}
	if _, err := os.Stat(stateDir(root, name)); err == nil {
		t.Error("refused Up left a state dir")
	}
}
