package netplane

import (
	"context"
	"net"
	"testing"
)

func BenchmarkSetupTeardownPod(b *testing.B) {
	requireRoot(b)
	tag := "npb" + uniq(b)
	p := newPlane(b, tag+"-p-", newNodeNs(b, tag+"-n"))
	ctx := context.Background()
	ip := net.ParseIP("10.244.1.5")
	b.Cleanup(func() { _ = p.TeardownPod(ctx, "bench") })
	for b.Loop() {
		if _, err := p.SetupPod(ctx, "bench", ip); err != nil {
			b.Fatal(err)
		}
		if err := p.TeardownPod(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
