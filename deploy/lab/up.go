package lab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Up builds lab cfg.Name and waits until its agents report a leader and
// cfg.Nodes Ready nodes. It refuses to start when the lab exists or its
// ranges overlap a host route. On failure it removes what it made unless
// cfg.KeepOnFailure is set.
func Up(ctx context.Context, cfg Config) (*Lab, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("lab up: %w", err)
	}
	ranges, err := lockRanges()
	if err != nil {
		return nil, fmt.Errorf("lab up %s: %w", cfg.Name, err)
	}
	defer ranges.release()
	plan, pod, err := planRanges(cfg)
	if err != nil {
		return nil, fmt.Errorf("lab up %s: %w", cfg.Name, err)
	}
	if err := refuseExisting(cfg); err != nil {
		return nil, fmt.Errorf("lab up %s: %w", cfg.Name, err)
	}
	if err := os.MkdirAll(cfg.StateRoot, 0o755); err != nil {
		return nil, fmt.Errorf("lab up %s: state root: %w", cfg.Name, err)
	}
	// Mkdir, not MkdirAll: it is the claim on the name when two Ups race.
	dir := stateDir(cfg.StateRoot, cfg.Name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lab up %s: claim %s: %w", cfg.Name, dir, err)
	}

	l := newLab(cfg, plan, pod)
	if err := build(ctx, cfg, l, plan, ranges.release); err != nil {
		err = fmt.Errorf("lab up %s: %w", cfg.Name, err)
		if cfg.KeepOnFailure {
			return nil, fmt.Errorf("%w (kept for inspection in %s; remove with `shoal lab down %s`)", err, dir, cfg.Name)
		}
		// The caller's context may be what failed; cleanup needs its own.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if derr := Down(cctx, cfg.StateRoot, cfg.Name); derr != nil {
			return nil, errors.Join(err, fmt.Errorf("clean up after failed up: %w", derr))
		}
		return nil, err
	}
	return l, nil
}

// planRanges checks the pod range and picks or checks the lab range.
func planRanges(cfg Config) (addrPlan, netip.Prefix, error) {
	pod, err := netip.ParsePrefix(cfg.PodCIDR)
	if err != nil {
		return addrPlan{}, pod, fmt.Errorf("pod CIDR %q: %w", cfg.PodCIDR, err)
	}
	pod = pod.Masked()
	routes, err := hostRoutes()
	if err != nil {
		return addrPlan{}, pod, err
	}
	if err := checkOverlap("pod CIDR", pod, routes); err != nil {
		return addrPlan{}, pod, err
	}
	svc, err := netip.ParsePrefix(cfg.ServiceCIDR)
	if err != nil {
		return addrPlan{}, pod, fmt.Errorf("service CIDR %q: %w", cfg.ServiceCIDR, err)
	}
	svc = svc.Masked()
	if err := checkOverlap("service CIDR", svc, routes); err != nil {
		return addrPlan{}, pod, err
	}
	if svc.Overlaps(pod) {
		return addrPlan{}, pod, fmt.Errorf("service CIDR %s overlaps pod CIDR %s", svc, pod)
	}
	others, err := List(cfg.StateRoot)
	if err != nil {
		return addrPlan{}, pod, err
	}
	var taken []netip.Prefix
	for _, o := range others {
		if p, err := netip.ParsePrefix(o.LabCIDR); err == nil {
			taken = append(taken, p)
		}
	}

	var labNet netip.Prefix
	if cfg.LabCIDR == "" {
		labNet, err = chooseLabCIDR(routes, taken, pod)
		if err != nil {
			return addrPlan{}, pod, err
		}
	} else {
		labNet, err = netip.ParsePrefix(cfg.LabCIDR)
		if err != nil {
			return addrPlan{}, pod, fmt.Errorf("lab CIDR %q: %w", cfg.LabCIDR, err)
		}
		labNet = labNet.Masked()
		if err := checkOverlap("lab CIDR", labNet, routes); err != nil {
			return addrPlan{}, pod, err
		}
		if labNet.Overlaps(pod) {
			return addrPlan{}, pod, fmt.Errorf("lab CIDR %s overlaps pod CIDR %s", labNet, pod)
		}
		if labNet.Overlaps(svc) {
			return addrPlan{}, pod, fmt.Errorf("lab CIDR %s overlaps service CIDR %s", labNet, svc)
		}
		for _, o := range others {
			if p, err := netip.ParsePrefix(o.LabCIDR); err == nil && p.Overlaps(labNet) {
				return addrPlan{}, pod, fmt.Errorf("lab CIDR %s overlaps lab %s (%s)", labNet, o.Name, p)
			}
		}
	}
	plan, err := newAddrPlan(labNet, cfg.Nodes)
	return plan, pod, err
}

// refuseExisting fails if anything of a lab by that name is left.
func refuseExisting(cfg Config) error {
	dir := stateDir(cfg.StateRoot, cfg.Name)
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lab %s exists (state dir %s): remove it with `shoal lab down %s`", cfg.Name, dir, cfg.Name)
	}
	if netnsExists(labNetns(cfg.Name)) {
		return fmt.Errorf("lab %s exists (netns %s): remove it with `shoal lab down %s`", cfg.Name, labNetns(cfg.Name), cfg.Name)
	}
	return nil
}

func newLab(cfg Config, plan addrPlan, pod netip.Prefix) *Lab {
	dir := stateDir(cfg.StateRoot, cfg.Name)
	l := &Lab{
		Name:        cfg.Name,
		StateRoot:   cfg.StateRoot,
		Dir:         dir,
		LabCIDR:     plan.prefix.String(),
		PodCIDR:     pod.String(),
		ServiceCIDR: cfg.ServiceCIDR,
		Servers:     cfg.Servers,
		MaxPods:     cfg.MaxPods,
		AgentArgs:   cfg.AgentArgs,
		Netns:       labNetns(cfg.Name),
		HostLink:    hostLinkName(cfg.Name),
		HostAddr:    plan.host().String(),
		CreatedAt:   time.Now().UTC(),
	}
	if cfg.Machines {
		l.Machines = true
	} else if cfg.Containerd == "" {
		l.Containerd = ownContainerd(dir).socket
		l.OwnContainerd = true
	} else {
		l.Containerd = cfg.Containerd
	}
	for k := 1; k <= cfg.Nodes; k++ {
		name := nodeName(k)
		l.Nodes = append(l.Nodes, Node{
			Name:    name,
			Netns:   nodeNetns(cfg.Name, name),
			Addr:    plan.node(k).String(),
			Memory:  perNode(cfg.NodeMemory, k-1),
			CPU:     perNode(cfg.NodeCPU, k-1),
			DataDir: filepath.Join(dir, name),
			Log:     filepath.Join(dir, name, "agent.log"),
		})
	}
	return l
}

// build makes the namespaces, containerd and agents, saving the state file
// after each step so Down knows what exists even if Up dies midway.
// rangeClaimed is called once the host link holds the lab range, which
// other Ups then see as a host route.
func build(ctx context.Context, cfg Config, l *Lab, plan addrPlan, rangeClaimed func()) error {
	if err := l.save(); err != nil {
		return err
	}
	fmt.Fprintf(cfg.Progress, "lab %s: network %s, host link %s (%s)\n", l.Name, l.LabCIDR, l.HostLink, l.HostAddr)
	if err := buildLabNetns(l, plan.hostPrefix()); err != nil {
		return err
	}
	rangeClaimed()
	for k, n := range l.Nodes {
		if err := buildNodeNetns(l, n, plan.nodePrefix(k+1)); err != nil {
			return err
		}
	}

	if l.Machines {
		for i := range l.Nodes {
			l.Nodes[i].Log = filepath.Join(l.Nodes[i].DataDir, "console.log")
			if err := os.MkdirAll(l.Nodes[i].DataDir, 0o755); err != nil {
				return fmt.Errorf("node %s data dir: %w", l.Nodes[i].Name, err)
			}
		}
		return buildMachines(ctx, cfg, l)
	}

	if l.OwnContainerd {
		fmt.Fprintf(cfg.Progress, "lab %s: starting containerd at %s\n", l.Name, l.Containerd)
		pid, err := startContainerd(ctx, ownContainerd(l.Dir))
		l.ContainerdPID = pid
		if serr := l.save(); serr != nil {
			return errors.Join(err, serr)
		}
		if err != nil {
			return err
		}
	} else if err := pingContainerd(ctx, l.Containerd); err != nil {
		return err
	}
	if cfg.TLS {
		if err := makeTLS(l, cfg.AgentBinary); err != nil { // tls.go
			return err
		}
	}

	for i := range l.Nodes {
		n := &l.Nodes[i]
		if err := os.MkdirAll(n.DataDir, 0o755); err != nil {
			return fmt.Errorf("node %s data dir: %w", n.Name, err)
		}
		pid, err := startDetached(filepath.Join(netnsDir, n.Netns), agentArgs(cfg.AgentBinary, l, *n), n.Log)
		if err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
		n.PID = pid
		if err := l.save(); err != nil {
			return err
		}
	}
	fmt.Fprintf(cfg.Progress, "lab %s: %d agents started, logs in %s/nK/agent.log\n", l.Name, len(l.Nodes), l.Dir)
	return waitReady(ctx, l, cfg.Progress, cfg.ReadyTimeout)
}

// agentArgs is the agent command line, per the agent's flag contract.
func agentArgs(bin string, l *Lab, n Node) []string {
	args := []string{bin, "agent",
		"--name", n.Name,
		"--data-dir", n.DataDir,
		"--bind-addr", n.Addr,
		"--api-port", strconv.Itoa(APIPort),
		"--raft-port", strconv.Itoa(RaftPort),
		"--gossip-port", strconv.Itoa(GossipPort),
	}
	// n1 is the seed: it joins nobody, everyone else joins it.
	if n.Name != l.Nodes[0].Name {
		args = append(args, "--join", fmt.Sprintf("%s:%d", l.Nodes[0].Addr, GossipPort))
	}
	// The first Servers nodes hold the Raft seats and bootstrap together;
	// the rest are clients.
	for i := 0; i < l.Servers && i < len(l.Nodes); i++ {
		if l.Nodes[i].Name == n.Name {
			args = append(args, "--bootstrap-expect", strconv.Itoa(l.Servers))
		}
	}
	if l.MaxPods > 0 {
		args = append(args, "--max-pods", strconv.Itoa(l.MaxPods))
	}
	// Every node namespace routes the service range (it has no default
	// route) for its own connections to ClusterIPs; the agent adds that
	// route only inside its node namespace.
	if l.ServiceCIDR != "" {
		args = append(args, "--service-cidr", l.ServiceCIDR, "--service-route")
	}
	return append(append(args,
		"--servers", strconv.Itoa(l.Servers),
		"--containerd", l.Containerd,
		"--containerd-namespace", containerdNS(l.Name, n.Name),
		"--netns-prefix", podNetnsPrefix(l.Name, n.Name),
		"--pod-cidr", l.PodCIDR,
		"--memory", n.Memory,
		"--cpu", n.CPU,
		// A registry a test runs on the lab network has no certificate.
		"--insecure-registry", l.LabCIDR,
		// The lab's containerd keeps its images under the lab's directory.
		"--image-fs", l.Dir,
	), append(tlsArgs(l, n), l.AgentArgs...)...)
}
