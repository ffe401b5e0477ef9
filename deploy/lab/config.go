package lab

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// DefaultStateRoot is where labs keep their state unless told otherwise.
const DefaultStateRoot = "/var/lib/shoal/lab"

// Fixed agent ports: every node has its own address, so they never clash.
const (
	APIPort    = 7080
	RaftPort   = 7081
	GossipPort = 7946
)

// Config describes a lab to build. Zero values take the documented defaults.
type Config struct {
	Name  string
	Nodes int

	// StateRoot holds one directory per lab (StateRoot/NAME). Default
	// DefaultStateRoot.
	StateRoot string
	// Containerd is the address of an existing containerd. Empty starts the
	// lab's own containerd under the lab's state directory.
	Containerd string
	// AgentBinary is the shoal binary run as `BINARY agent ...`. Default:
	// this executable.
	AgentBinary string
	// LabCIDR holds the node addresses. Default: the first 10.250.X.0/24 that
	// no other lab uses and that overlaps no route of the host.
	LabCIDR string
	// PodCIDR is passed to every agent. Default 10.244.0.0/16.
	PodCIDR string
	// ServiceCIDR is the Services' ClusterIP range, passed to every agent
	// with --service-route (each node namespace routes it for its own
	// connections). Default 10.96.0.0/16.
	ServiceCIDR string
	// NodeMemory and NodeCPU are per node; the last entry repeats. Default
	// 2Gi and 2.
	NodeMemory, NodeCPU []string
	// MaxPods is passed to every agent as --max-pods when set.
	MaxPods int
	// AgentArgs are appended to every agent's command line (and kept for
	// restarts), e.g. --image-gc-high-threshold=1 for a disk-pressure test.
	AgentArgs []string
	// Servers is the number of Raft seats. Default min(3, Nodes).
	Servers int
	// Progress receives human progress lines while Up waits. Default: none.
	Progress io.Writer
	// ReadyTimeout bounds the wait for a leader and Nodes Ready nodes.
	// Default 2 minutes.
	ReadyTimeout time.Duration
	// KeepOnFailure leaves a half-built lab in place when Up fails (for
	// reading its logs); otherwise Up removes what it made.
	KeepOnFailure bool

	// Machines runs every node as a Debian 12 systemd machine provisioned
	// by deploy/vagrant/provision.sh (see machine.go) instead of a bare
	// agent process. NodeMemory, NodeCPU, MaxPods, AgentArgs and
	// Containerd do not apply: each machine is installed as a VM is.
	Machines bool
	// MachineCache holds the machines' Debian root, built once. Default
	// DefaultMachineCache.
	MachineCache string
	// MachineMirror is the Debian mirror the root is built from. Default:
	// the one this host's apt uses.
	MachineMirror string
	// MachineTLS provisions the machines with TLS material, as
	// SHOAL_TLS=1 does with the Vagrantfile.
	MachineTLS bool
	// TLS makes a process lab's agents serve the API over TLS with
	// certificates from `shoal tls` (see tls.go).
	TLS bool
}

const (
	defaultPodCIDR      = "10.244.0.0/16"
	defaultServiceCIDR  = "10.96.0.0/16"
	defaultMemory       = "2Gi"
	defaultCPU          = "2"
	defaultReadyTimeout = 2 * time.Minute
	maxNodes            = 200
)

// nameRE keeps lab names usable as netns, containerd namespace and file
// names.
var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`)

// nodeSegmentRE matches a name segment that looks like a node name; such a
// segment would make lab "a-n1-b" indistinguishable from pods of lab "a".
var nodeSegmentRE = regexp.MustCompile(`(^|-)n[0-9]+(-|$)`)

// ValidateName reports why name cannot be a lab name, or nil.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("lab name %q: want 1-32 lowercase letters, digits or '-', starting and ending with a letter or digit", name)
	}
	if nodeSegmentRE.MatchString(name) {
		return fmt.Errorf("lab name %q: a '-'-separated part like n1 is reserved for node names", name)
	}
	return nil
}

// withDefaults returns cfg with defaults filled in, or why cfg is unusable.
func (cfg Config) withDefaults() (Config, error) {
	if err := ValidateName(cfg.Name); err != nil {
		return cfg, err
	}
	if cfg.Nodes < 1 || cfg.Nodes > maxNodes {
		return cfg, fmt.Errorf("nodes %d: want 1..%d", cfg.Nodes, maxNodes)
	}
	if cfg.Machines && (len(cfg.NodeMemory) > 0 || len(cfg.NodeCPU) > 0 || (cfg.PodCIDR != "" && cfg.PodCIDR != defaultPodCIDR)) {
		return cfg, errors.New("machines: --node-memory, --node-cpu and --pod-cidr do not apply (each machine's agent.yaml is provision.sh's, as on a VM)")
	}
	if cfg.MaxPods < 0 {
		return cfg, fmt.Errorf("max-pods %d: want 0 (the agent's default) or more", cfg.MaxPods)
	}
	if cfg.StateRoot == "" {
		cfg.StateRoot = DefaultStateRoot
	}
	abs, err := filepath.Abs(cfg.StateRoot)
	if err != nil {
		return cfg, fmt.Errorf("state root %q: %w", cfg.StateRoot, err)
	}
	cfg.StateRoot = abs
	if cfg.AgentBinary == "" {
		exe, err := os.Executable()
		if err != nil {
			return cfg, fmt.Errorf("find agent binary: %w", err)
		}
		cfg.AgentBinary = exe
	}
	if cfg.PodCIDR == "" {
		cfg.PodCIDR = defaultPodCIDR
	}
	if cfg.ServiceCIDR == "" {
		cfg.ServiceCIDR = defaultServiceCIDR
	}
	if len(cfg.NodeMemory) == 0 {
		cfg.NodeMemory = []string{defaultMemory}
	}
	if len(cfg.NodeCPU) == 0 {
		cfg.NodeCPU = []string{defaultCPU}
	}
	if cfg.Servers == 0 {
		cfg.Servers = min(3, cfg.Nodes)
	}
	if cfg.Servers < 1 || cfg.Servers > cfg.Nodes {
		return cfg, fmt.Errorf("servers %d: want 1..nodes (%d)", cfg.Servers, cfg.Nodes)
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = defaultReadyTimeout
	}
	if cfg.Machines {
		if cfg.Containerd != "" || cfg.MaxPods != 0 || len(cfg.AgentArgs) > 0 {
			return cfg, errors.New("machines: --containerd, --max-pods and --agent-arg do not apply (each machine runs its own containerd and the agent from /etc/shoal/agent.yaml)")
		}
		if cfg.MachineCache == "" {
			cfg.MachineCache = DefaultMachineCache
		}
	} else if cfg.MachineTLS {
		return cfg, errors.New("machine TLS needs --machines")
	}
	if cfg.TLS && cfg.Machines {
		return cfg, errors.New("--tls is for process labs; machines take --machine-tls")
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	return cfg, nil
}

// perNode picks node i's (0-based) entry; the last entry repeats.
func perNode(list []string, i int) string {
	if i < len(list) {
		return list[i]
	}
	return list[len(list)-1]
}
