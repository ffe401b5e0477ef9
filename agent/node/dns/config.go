package dns

import (
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Defaults.
const (
	DefaultZone    = "cluster.local"
	DefaultTTL     = 5 * time.Second
	DefaultTimeout = 2 * time.Second
)

// Config says what the server answers and where it listens.
type Config struct {
	// Addr is where to listen, UDP and TCP on the same port, e.g.
	// "10.99.0.1:53"; port 0 picks a free one.
	Addr string
	// Zone is the cluster domain; DefaultZone if empty.
	Zone string
	// TTL of every answer (and of negative caching); DefaultTTL if 0.
	TTL time.Duration
	// Upstreams are host:port resolvers for names outside the zone, tried in
	// order; none means such names are REFUSED.
	Upstreams []string
	// UpstreamTimeout bounds one upstream exchange; DefaultTimeout if 0.
	UpstreamTimeout time.Duration
	// Lookup is the state answers come from.
	Lookup Lookup
	// Logger; slog.Default() if nil.
	Logger *slog.Logger
}

// withDefaults fills in defaults and checks the rest, naming the field.
func (c Config) withDefaults() (Config, error) {
	if c.Lookup == nil {
		return c, fmt.Errorf("dns config: Lookup: must be set")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return c, fmt.Errorf("dns config: Addr %q: %w", c.Addr, err)
	}
	if c.Zone == "" {
		c.Zone = DefaultZone
	}
	c.Zone = strings.ToLower(dns.Fqdn(c.Zone))
	if _, ok := dns.IsDomainName(c.Zone); !ok || c.Zone == "." {
		return c, fmt.Errorf("dns config: Zone %q: not a domain name", c.Zone)
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.TTL < time.Second {
		return c, fmt.Errorf("dns config: TTL %s: must be at least 1s", c.TTL)
	}
	if c.UpstreamTimeout == 0 {
		c.UpstreamTimeout = DefaultTimeout
	}
	for i, u := range c.Upstreams {
		if _, _, err := net.SplitHostPort(u); err != nil {
			return c, fmt.Errorf("dns config: Upstreams[%d] %q: %w", i, u, err)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
