package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/miekg/dns"
)

// Server is a running DNS server, on UDP and TCP.
type Server struct {
	addr   string
	udp    *dns.Server
	tcp    *dns.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errs   chan error
}

// Start listens on cfg.Addr (UDP and TCP, the same port) and serves until
// Close. It returns once both sockets are bound.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	pc, ln, err := listenBoth(ctx, cfg.Addr)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	h := &handler{
		zone:      zone{origin: cfg.Zone, ttl: uint32(cfg.TTL.Seconds()), lookup: cfg.Lookup},
		upstreams: cfg.Upstreams,
		timeout:   cfg.UpstreamTimeout,
		log:       cfg.Logger.With("component", "dns", "zone", cfg.Zone),
		ctx:       sctx,
	}
	s := &Server{
		addr:   ln.Addr().String(),
		udp:    &dns.Server{PacketConn: pc, Handler: h},
		tcp:    &dns.Server{Listener: ln, Handler: h},
		cancel: cancel,
		errs:   make(chan error, 2),
	}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := srv.ActivateAndServe(); err != nil {
				s.errs <- err
			}
		}()
		select {
		case <-started:
		case err := <-s.errs:
			_ = s.Close(ctx)
			return nil, fmt.Errorf("dns: serve on %s: %w", s.addr, err)
		case <-ctx.Done():
			_ = s.Close(context.Background())
			return nil, fmt.Errorf("dns: start on %s: %w", s.addr, ctx.Err())
		}
	}
	h.log.Info("dns serving", "addr", s.addr, "upstreams", cfg.Upstreams)
	return s, nil
}

// Addr is the host:port the server answers on (UDP and TCP).
func (s *Server) Addr() string { return s.addr }

// Close stops both listeners and waits for the serving goroutines.
func (s *Server) Close(ctx context.Context) error {
	s.cancel()
	var errs []error
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		if err := srv.ShutdownContext(ctx); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
	}
	s.wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("dns: close %s: %w", s.addr, err)
	}
	return nil
}

// listenBoth binds UDP and TCP on one port. With port 0 the UDP socket picks
// it and TCP follows; a port taken for TCP only is retried with another.
func listenBoth(ctx context.Context, addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dns: listen address %q: %w", addr, err)
	}
	var lc net.ListenConfig
	tries := 1
	if port == "0" {
		tries = 10
	}
	var lastErr error
	for range tries {
		pc, err := lc.ListenPacket(ctx, "udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("dns: listen udp %s: %w", addr, err)
		}
		bound := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
		ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, bound))
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		lastErr = fmt.Errorf("dns: listen tcp %s: %w", net.JoinHostPort(host, bound), err)
	}
	return nil, nil, lastErr
}
