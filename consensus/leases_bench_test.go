package consensus

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkRenewNodeLeases is the cost of one renewal of a fleet's node
// Leases, applied as Raft applies it (decode included): the state
// machine's write lock is held this long every renewal interval.
func BenchmarkRenewNodeLeases(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run("nodes="+strconv.Itoa(n), func(b *testing.B) {
			h := newHarness(&testing.T{})
			names := make([]string, n)
			for i := range names {
				names[i] = "n" + strconv.Itoa(i)
				reg := node(names[i], "4Gi", "192.168.50.2")
				reg.ClusterCIDR, reg.BlockBits = "10.0.0.0/8", 24
				if _, err := h.do(reg); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := h.do(RenewNodeLeases{Nodes: names, Time: t0}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := h.do(RenewNodeLeases{Nodes: names, Time: t0.Add(time.Duration(i+1) * 10 * time.Second)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
