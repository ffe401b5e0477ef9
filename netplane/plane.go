package netplane

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/shoal-dev/shoal/netplane/netnsdir"
)

const (
	// NetnsDir is where named network namespaces are bind-mounted, the same
	// place iproute2 uses, so `ip netns` sees shoal's pods.
	NetnsDir = netnsdir.Dir

	// DefaultNetnsPrefix names pod namespaces when Config.NetnsPrefix is empty.
	DefaultNetnsPrefix = "shoal-"

	// DefaultMTU is used when Config.MTU is zero.
	DefaultMTU = 1500

	// ProtoPeer marks node routes toward peer blocks; SyncPeerRoutes owns
	// exactly the routes with this protocol. Unassigned in iproute2's
	// rt_protos.
	ProtoPeer = 83
	// ProtoPod marks node routes toward local pod IPs.
	ProtoPod = 84

	// PodIfName is the pod-side interface name.
	PodIfName = "eth0"
	// hostIfPrefix starts every node-side veth name.
	hostIfPrefix = "shv"
)

// GatewayAddr is the link-local next hop every pod's default route points
// at; it is the same in every pod and resolves to the node-side veth's MAC.
const GatewayAddr = "169.254.1.1"

func gatewayIP() net.IP { return net.IPv4(169, 254, 1, 1).To4() }

// Config tells a Plane where to act.
type Config struct {
	// NetnsPrefix is prepended to a podID to name its netns, e.g.
	// "shoal-lab1-n1-". Default DefaultNetnsPrefix.
	NetnsPrefix string
	// NodeNetns is the namespace the node side lives in. 0 or -1 means the
	// calling process's network namespace. The Plane duplicates the handle;
	// the caller keeps ownership of its own.
	NodeNetns netns.NsHandle
	// MTU of both veth ends. Default DefaultMTU.
	MTU int
}

// Plane wires pods of one node into the pod network.
type Plane struct {
	prefix string
	mtu    int
	node   netns.NsHandle
	log    *slog.Logger

	// podMu serialises pod setup and teardown: both read-then-modify the
	// same links and namespaces, and they are fast.
	podMu sync.Mutex
	// holders: which pod namespace holds each pod IP (pod_ips.go); under podMu.
	holders ipHolders
}

// New returns a Plane acting in cfg.NodeNetns. Close releases it.
func New(cfg Config, log *slog.Logger) (*Plane, error) {
	if log == nil {
		log = slog.Default()
	}
	prefix := cfg.NetnsPrefix
	if prefix == "" {
		prefix = DefaultNetnsPrefix
	}
	if strings.ContainsAny(prefix, "/\x00") {
		return nil, fmt.Errorf("netplane config: NetnsPrefix %q: must not contain '/' or NUL", prefix)
	}
	mtu := cfg.MTU
	if mtu == 0 {
		mtu = DefaultMTU
	}
	if mtu < 68 || mtu > 65535 {
		return nil, fmt.Errorf("netplane config: MTU %d: must be between 68 and 65535", mtu)
	}
	node, err := dupNodeNetns(cfg.NodeNetns)
	if err != nil {
		return nil, fmt.Errorf("netplane config: node netns: %w", err)
	}
	return &Plane{prefix: prefix, mtu: mtu, node: node, log: log.With("component", "netplane")}, nil
}

func dupNodeNetns(h netns.NsHandle) (netns.NsHandle, error) {
	if h == 0 || h == -1 {
		// /proc/self is the thread-group leader: the process's namespace,
		// not whatever namespace the calling thread happens to be in.
		ns, err := netns.GetFromPath("/proc/self/ns/net")
		if err != nil {
			return netns.None(), fmt.Errorf("open /proc/self/ns/net: %w", err)
		}
		return ns, nil
	}
	fd, err := unix.FcntlInt(uintptr(h), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return netns.None(), fmt.Errorf("dup handle %d: %w", int(h), err)
	}
	return netns.NsHandle(fd), nil
}

// Close releases the Plane's node namespace handle. It changes nothing on
// the network.
func (p *Plane) Close() error {
	if err := p.node.Close(); err != nil {
		return fmt.Errorf("close node netns: %w", err)
	}
	return nil
}

// NetnsPath is the bind-mount path of the pod's network namespace.
func (p *Plane) NetnsPath(podID string) string {
	return filepath.Join(NetnsDir, p.prefix+podID)
}

// HostIfName is the node-side veth name of a pod: short enough for IFNAMSIZ
// and stable across agent restarts, so teardown finds it without state.
func (p *Plane) HostIfName(podID string) string {
	sum := sha256.Sum256([]byte(p.prefix + podID))
	return hostIfPrefix + hex.EncodeToString(sum[:])[:10]
}

func validatePodID(podID string) error {
	switch {
	case podID == "", podID == ".", podID == "..":
		return fmt.Errorf("pod id %q: must be a non-empty file name", podID)
	case strings.ContainsAny(podID, "/\x00"):
		return fmt.Errorf("pod id %q: must not contain '/' or NUL", podID)
	case len(podID) > 200:
		return fmt.Errorf("pod id %q: longer than 200 bytes", podID)
	}
	return nil
}

var errNotIPv4 = errors.New("only IPv4 pod addresses are supported")
