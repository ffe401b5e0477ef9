package netplane

import (
	"context"
	"fmt"
)

// EnsureNode prepares the node namespace to route pod traffic: IPv4
// forwarding on. It is idempotent. It never adds a default route.
func (p *Plane) EnsureNode(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ensure node: %w", err)
	}
	if err := writeSysctl(p.node, "net/ipv4/ip_forward", "1"); err != nil {
		return fmt.Errorf("ensure node: %w", err)
	}
	return nil
}
