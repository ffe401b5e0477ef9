package hollow

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"

	"github.com/shoal-dev/shoal/netplane"
)

// Network keeps the pod addresses and peer routes a node would program,
// in memory. Like the real plane it refuses to give one address to two
// pods of the node (the real one could not route the second), so a
// double assignment in the fleet shows up as an error, not a silent
// success.
type Network struct {
	mu    sync.Mutex
	pods  map[string]string // pod ID -> its IP
	peers []netplane.Peer
}

// NewNetwork returns a node network with no pods.
func NewNetwork() *Network { return &Network{pods: map[string]string{}} }

// SetupPod records the pod's address and returns a made-up namespace path.
func (n *Network) SetupPod(ctx context.Context, podID string, ip net.IP) (string, error) {
	if ip.To4() == nil {
		return "", fmt.Errorf("setup pod %s: ip %v: not an IPv4 address", podID, ip)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("setup pod %s: %w", podID, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for other, have := range n.pods {
		if other != podID && have == ip.String() {
			return "", fmt.Errorf("setup pod %s: ip %v already belongs to pod %s on this node", podID, ip, other)
		}
	}
	n.pods[podID] = ip.String()
	return "/hollow/netns/" + podID, nil
}

// TeardownPod forgets the pod's network; an unknown pod is no error.
func (n *Network) TeardownPod(ctx context.Context, podID string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.pods, podID)
	return nil
}

// ListPods returns the IDs of the pod networks, sorted.
func (n *Network) ListPods(ctx context.Context) ([]string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]string, 0, len(n.pods))
	for id := range n.pods {
		out = append(out, id)
	}
	sort.Strings(out)
	return out, nil
}

// SyncPeerRoutes keeps the peers' blocks as the node's routes would be.
func (n *Network) SyncPeerRoutes(ctx context.Context, peers []netplane.Peer) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.peers = append(n.peers[:0:0], peers...)
	return nil
}

// Peers returns the routes last synced.
func (n *Network) Peers() []netplane.Peer {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]netplane.Peer(nil), n.peers...)
}
