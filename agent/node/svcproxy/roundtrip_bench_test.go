package svcproxy

import (
	"context"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/netplane/nsthread"
)

// BenchmarkServiceRoundTrip compares one-byte round trips from a pod to a pod on
// the same node, directly and through the ClusterIP, on one connection
// each, taking turns every 100 (as netbench rrpair does in the lab): the
// per-packet cost of the DNAT alone, without the lab's other traffic.
// Reports each path's median and their ratio.
func BenchmarkServiceRoundTrip(b *testing.B) {
	n := newNode(b)
	client := n.pod(b, "client", clientIP)
	srv := n.pod(b, "srv1", srv1IP)
	echoBytes(b, srv, srv1IP+":8080")
	p := n.proxy(b)
	if err := p.Sync(context.Background(), []Service{web(srv1IP)}); err != nil {
		b.Fatal(err)
	}
	var conns [2]net.Conn
	for i, addr := range []string{srv1IP + ":8080", vip + ":80"} {
		err := nsthread.Run(client, func() error {
			c, err := net.Dial("tcp4", addr)
			conns[i] = c
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		defer conns[i].Close()
	}
	const block = 100
	var lat [2][]time.Duration
	buf := []byte{1}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := (i / block) % 2
		t := time.Now()
		if _, err := conns[k].Write(buf); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(conns[k], buf); err != nil {
			b.Fatal(err)
		}
		lat[k] = append(lat[k], time.Since(t))
	}
	if len(lat[1]) == 0 {
		return
	}
	med := func(d []time.Duration) float64 { slices.Sort(d); return float64(d[len(d)/2].Nanoseconds()) }
	b.ReportMetric(med(lat[0]), "direct-p50-ns")
	b.ReportMetric(med(lat[1]), "clusterip-p50-ns")
	b.ReportMetric(med(lat[1])/med(lat[0]), "ratio")
}

// echoBytes echoes every byte of every connection on addr in the
// namespace at path.
func echoBytes(tb testing.TB, path, addr string) {
	tb.Helper()
	serveIn(tb, path, addr, func(c net.Conn) { _, _ = io.Copy(c, c) })
}
