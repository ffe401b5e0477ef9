package dns

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// BenchmarkQueryUDP is one A query for a ClusterIP Service over UDP on
// loopback, from several clients at once; queries/s is the server's rate.
func BenchmarkQueryUDP(b *testing.B) {
	s := startServer(b, Config{Lookup: cluster()})
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
		conn, err := c.Dial(s.Addr())
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		m := new(dns.Msg).SetQuestion("web.default.svc.cluster.local.", dns.TypeA)
		for pb.Next() {
			resp, _, err := c.ExchangeWithConn(m, conn)
			if err != nil {
				b.Error(err)
				return
			}
			if len(resp.Answer) != 1 {
				b.Errorf("answer %v", resp.Answer)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "queries/s")
}
