package agent

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/agent/node"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/podruntime"
)

// Config is everything `shoal agent` is told. Zero values take the defaults
// of DefaultConfig; Validate names what is wrong.
type Config struct {
	Name          string
	DataDir       string
	BindAddr      string // IP the agent listens on
	AdvertiseAddr string // IP peers reach it at; default BindAddr (or the first non-loopback address)
	APIPort       int
	RaftPort      int
	GossipPort    int
	Join          []string // gossip addresses host:port of agents already in the fleet

	Server          bool // holds a Raft seat
	BootstrapExpect int  // servers that must have met before Raft bootstraps
	Servers         int  // voters the fleet keeps

	ContainerdAddress   string
	ContainerdNamespace string
	NetnsPrefix         string

	PodCIDR   string
	BlockBits int // prefix length of each node's pod block
	// ServiceCIDR is the fleet's service range, which Services' ClusterIPs
	// come from. Every server must be given the same one: the leader
	// carries its own in each Service it writes.
	ServiceCIDR string
	// ServiceRoute adds a route for the service range in the agent's own
	// network namespace (a node namespace without a default route, as in
	// the lab), which the node's own connections to a ClusterIP need. It
	// adds nothing where a default route or a covering route exists.
	ServiceRoute bool
	// DNSAddr is where the node answers DNS for cluster.local (UDP and
	// TCP) and what its pods' resolv.conf names: "" is the advertise
	// address, port 53; "off" serves none. A port that cannot be bound
	// leaves the node without DNS (logged), not without the agent.
	DNSAddr string

	Labels map[string]string
	Memory string // allocatable memory, e.g. 2Gi; default: the machine's
	CPU    string // allocatable cpu, e.g. 2 or 1500m; default: the machine's
	// MaxPods is how many pods the node takes; 0 means DefaultMaxPods.
	MaxPods int

	// ResyncInterval is how often the node reconciler looks at its
	// containers even when the state did not change (exits, restarts).
	ResyncInterval time.Duration

	// Security (agent/auth.go, agent/tls.go, agent/apiserver/middleware.go): the gossip key (base64, 16,
	// 24 or 32 bytes, as `shoal keygen` prints), the file holding the API's
	// bearer token, and the API's TLS certificate, key and CA.
	Encrypt     string
	TokenFile   string
	TLSCertFile string
	TLSKeyFile  string
	TLSCAFile   string

	// DebugPprof serves Go's profiles at /debug/pprof/ (agent/apiserver/pprof.go)
	// even when the API has no token.
	DebugPprof bool

	// ExtraMetrics is served at /metrics with the agent's own metrics:
	// hashicorp/raft's and memberlist's, gathered by LibraryMetrics.
	ExtraMetrics prometheus.Gatherer

	// Registries (podruntime/registry.go): RegistryMirrors are
	// "REGISTRY=URL" (or a bare URL, a mirror of docker.io), tried in
	// order before the registry; InsecureRegistries are reached over plain
	// HTTP (host, host:port or CIDR); RegistryCA is a PEM file of extra CAs.
	RegistryMirrors    []string
	InsecureRegistries []string
	RegistryCA         string

	// Image garbage collection (agent/image_gc.go): when the filesystem at
	// ImageFS (containerd's root) is ImageGCHighPercent full, unused images
	// go until it is below ImageGCLowPercent. A high mark above 100
	// disables it.
	ImageFS            string
	ImageGCHighPercent int
	ImageGCLowPercent  int
	ImageGCInterval    time.Duration

	// NodeGrace is how long an agent must be out of contact before the
	// leader declares its node NotReady and replaces its replicas; a node
	// cut off from the servers stops its own replicas within it
	// (agent/liveness, docs/liveness.md). Zero means the gossip profile's
	// default: DefaultNodeGrace, or liveness.WANNodeGrace on "wan".
	NodeGrace time.Duration
	// RestartGrace is how long the fleet keeps this node's pods after the
	// agent stopped on purpose (SIGTERM), and the restarted agent keeps
	// them though it was away past FenceAfter (restart_planned.go). Zero
	// treats every stop as a crash.
	RestartGrace time.Duration
	// GossipProfile is "lan" (the default, "") or "wan": gossip's timings
	// for sites joined by slow uplinks, with a longer default grace
	// (agent/liveness/profile.go). The same on every agent.
	GossipProfile string
	// Zone is reported as the node's topology.kubernetes.io/zone label
	// (agent/zone.go); SeatZone is the zone whose nodes the leader gives
	// Raft seats first.
	Zone     string
	SeatZone string

	// NodeBackend, when set, gives the node side its pod runtime and
	// network in place of containerd and netplane: the hollow agents of
	// `shoal sim` (agent/sim.go, agent/node/hollow). Nil, as everywhere
	// outside the sim: the real ones.
	NodeBackend func() (node.PodRuntime, node.Network)
	// started hands the sim each agent it runs once gossip is up.
	started func(*Agent)
	// tuneGossip lets the sim change memberlist's settings last.
	tuneGossip func(*memberlist.Config) error
	// tuneRaft lets the sim change its seats' Raft timeouts last.
	tuneRaft func(*consensus.Config)
}

// DefaultConfig is the configuration of a one-machine fleet.
func DefaultConfig() Config {
	return Config{
		DataDir:             "/var/lib/shoal",
		BindAddr:            "0.0.0.0",
		APIPort:             7080,
		RaftPort:            7081,
		GossipPort:          7946,
		Servers:             3,
		ContainerdAddress:   "/run/containerd/containerd.sock",
		ContainerdNamespace: "shoal",
		NetnsPrefix:         "shoal-",
		PodCIDR:             "10.244.0.0/16",
		BlockBits:           24,
		ServiceCIDR:         consensus.DefaultServiceCIDR,
		ResyncInterval:      2 * time.Second,
		ImageFS:             "/var/lib/containerd",
		ImageGCHighPercent:  85,
		ImageGCLowPercent:   80,
		// The kubelet looks every five minutes; a small edge disk fills faster.
		ImageGCInterval: time.Minute,
	}
}

// Validate names every setting that cannot work.
func (c *Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("name: required"))
	}
	if net.ParseIP(c.BindAddr) == nil {
		errs = append(errs, fmt.Errorf("bind-addr %q: not an IP address", c.BindAddr))
	}
	if c.AdvertiseAddr != "" && net.ParseIP(c.AdvertiseAddr) == nil {
		errs = append(errs, fmt.Errorf("advertise-addr %q: not an IP address", c.AdvertiseAddr))
	}
	_, cidr, err := net.ParseCIDR(c.PodCIDR)
	if err != nil {
		errs = append(errs, fmt.Errorf("pod-cidr %q: %v", c.PodCIDR, err))
	} else if ones, _ := cidr.Mask.Size(); c.BlockBits <= ones || c.BlockBits > 30 {
		errs = append(errs, fmt.Errorf("block-bits %d: must be longer than the pod CIDR's /%d and at most 30", c.BlockBits, ones))
	}
	if err := validServiceCIDR(c.ServiceCIDR, c.PodCIDR); err != nil {
		errs = append(errs, err)
	}
	if err := validDNSAddr(c.DNSAddr); err != nil {
		errs = append(errs, err)
	}
	if err := c.validLiveness(); err != nil {
		errs = append(errs, err)
	}
	if err := c.validRestartGrace(); err != nil { // restart_planned.go
		errs = append(errs, err)
	}
	if err := c.validZones(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxPods < 0 {
		errs = append(errs, fmt.Errorf("max-pods %d: must be 0 (the default, %d) or more", c.MaxPods, DefaultMaxPods))
	}
	for _, q := range []struct{ name, v string }{{"memory", c.Memory}, {"cpu", c.CPU}} {
		if q.v == "" {
			continue
		}
		if _, err := resource.ParseQuantity(q.v); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %v", q.name, q.v, err))
		}
	}
	if c.Server && c.BootstrapExpect < 1 {
		errs = append(errs, errors.New("bootstrap-expect: a server needs at least 1"))
	}
	if c.Servers < 1 {
		errs = append(errs, fmt.Errorf("servers %d: must be at least 1", c.Servers))
	}
	if c.ImageGCLowPercent < 0 || c.ImageGCLowPercent >= c.ImageGCHighPercent {
		errs = append(errs, fmt.Errorf("image-gc-low-threshold %d: must be at least 0 and below image-gc-high-threshold %d", c.ImageGCLowPercent, c.ImageGCHighPercent))
	}
	if err := c.registries().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// registries is the podruntime form of the registry settings.
func (c *Config) registries() podruntime.RegistryConfig {
	out := podruntime.RegistryConfig{Insecure: c.InsecureRegistries, CAFile: c.RegistryCA}
	for _, m := range c.RegistryMirrors {
		reg, u, ok := strings.Cut(m, "=")
		if !ok {
			reg, u = "docker.io", m
		}
		if out.Mirrors == nil {
			out.Mirrors = map[string][]string{}
		}
		out.Mirrors[reg] = append(out.Mirrors[reg], u)
	}
	return out
}

func hostPort(ip string, port int) string { return net.JoinHostPort(ip, fmt.Sprint(port)) }

// advertise is the address peers use to reach this agent.
func (c *Config) advertise() string {
	if c.AdvertiseAddr != "" {
		return c.AdvertiseAddr
	}
	if ip := net.ParseIP(c.BindAddr); ip != nil && !ip.IsUnspecified() {
		return c.BindAddr
	}
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// validServiceCIDR checks the service range as the state machine will
// (IPv4, /12 to /28) and that it does not overlap the pod network; ""
// is consensus.DefaultServiceCIDR.
func validServiceCIDR(cidr, podCIDR string) error {
	if cidr == "" {
		cidr = consensus.DefaultServiceCIDR
	}
	p, err := netip.ParsePrefix(cidr)
	switch {
	case err != nil:
		return fmt.Errorf("service-cidr %q: %v", cidr, err)
	case !p.Addr().Is4():
		return fmt.Errorf("service-cidr %s: must be IPv4", cidr)
	case p.Bits() < 12 || p.Bits() > 28:
		return fmt.Errorf("service-cidr %s: must be between /12 and /28", cidr)
	}
	if pods, err := netip.ParsePrefix(podCIDR); err == nil && pods.Overlaps(p.Masked()) {
		return fmt.Errorf("service-cidr %s: overlaps the pod network %s", cidr, podCIDR)
	}
	return nil
}

// validDNSAddr checks --dns-addr: "", "off" or an IPv4 host:port.
func validDNSAddr(addr string) error {
	if addr == "" || addr == DNSOff {
		return nil
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() || ap.Port() == 0 {
		return fmt.Errorf("dns-addr %q: must be an IPv4 address and port (10.0.0.1:53), empty for the advertise address's port 53, or %q", addr, DNSOff)
	}
	return nil
}

// DNSOff as --dns-addr serves no cluster DNS on the node.
const DNSOff = "off"

// dnsAddr is where the node's DNS listens, "" for none.
func (c *Config) dnsAddr() string {
	switch c.DNSAddr {
	case DNSOff:
		return ""
	case "":
		return net.JoinHostPort(c.advertise(), "53")
	}
	return c.DNSAddr
}
