package main

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// dnsQueries sends count A queries for name to server from workers
// goroutines, each on its own UDP socket, one query in flight per worker;
// every answer must hold an address. It prints the rate and the latency
// quantiles over all queries.
func dnsQueries(server, name string, count, workers int) error {
	if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(server, "53")
	}
	q := new(dns.Msg).SetQuestion(dns.Fqdn(name), dns.TypeA)
	lats := make([][]time.Duration, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		n := count / workers
		if w < count%workers {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = func() error {
				c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
				conn, err := c.Dial(server)
				if err != nil {
					return fmt.Errorf("dial %s: %w", server, err)
				}
				defer conn.Close()
				for range n {
					t := time.Now()
					resp, _, err := c.ExchangeWithConn(q, conn)
					if err != nil {
						return fmt.Errorf("query %s: %w", name, err)
					}
					if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) == 0 {
						return fmt.Errorf("query %s: %s with %d answers", name, dns.RcodeToString[resp.Rcode], len(resp.Answer))
					}
					lats[w] = append(lats[w], time.Since(t))
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	total := time.Since(start)
	var all []time.Duration
	for w := range workers {
		if errs[w] != nil {
			return errs[w]
		}
		all = append(all, lats[w]...)
	}
	return report(all, total)
}
