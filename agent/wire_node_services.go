package agent

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/agent/node"
	"github.com/shoal-dev/shoal/agent/node/dns"
	"github.com/shoal-dev/shoal/agent/node/svcproxy"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/podruntime"
)

// This file wires the node side of Services: the follower of the fleet's
// Services (agent/node/services.go) with its source, the service proxy in
// the agent's own network namespace (the node's namespace in the lab), the
// service range's route and the node's DNS server.

// clusterDomain is the zone the node's DNS answers and pods search.
const clusterDomain = dns.DefaultZone

// startServices starts the node's service proxy and DNS; it returns the
// cluster DNS pods should use (nil when the node serves none). Both keep
// running until ctx is done; the table is left in place when the agent
// stops, so a restart does not interrupt Service traffic (the next agent's
// first sync replaces it).
func (a *Agent) startServices(ctx context.Context, fleetAPI nodeAPIClient) *podruntime.ClusterDNS {
	log := a.log.With("part", "services")
	if a.cfg.ServiceRoute {
		cidr, err := netip.ParsePrefix(a.serviceCIDR())
		src, err2 := netip.ParseAddr(a.cfg.advertise())
		switch {
		case err != nil || err2 != nil:
			log.Error("service route: bad range or node address", "range", a.serviceCIDR(), "addr", a.cfg.advertise())
		default:
			added, err := svcproxy.EnsureRoute("", cidr, src)
			if err != nil {
				log.Error("route the service range; the node's own connections to ClusterIPs will fail", "err", err)
			} else {
				log.Info("service range routed", "range", cidr, "src", src, "added", added)
			}
		}
	}
	var proxy node.ServiceProxy
	if p, err := svcproxy.New(svcproxy.Config{Logger: log}); err != nil {
		log.Error("service proxy unavailable; ClusterIPs are not served on this node", "err", err)
	} else {
		proxy = p
	}
	follower, err := node.NewServices(node.ServiceConfig{Log: log}, serviceSource{a: a, client: newWatchedServices(fleetAPI, log)}, proxy)
	if err != nil {
		log.Error("services", "err", err)
		return nil
	}
	go follower.Run(ctx)

	addr := a.cfg.dnsAddr()
	if addr == "" {
		return nil
	}
	srv, err := dns.Start(ctx, dns.Config{Addr: addr, Zone: clusterDomain, Lookup: follower, Upstreams: hostUpstreams(addr), Logger: log})
	if err != nil {
		log.Warn("cluster DNS off: cannot serve", "addr", addr, "err", err)
		return nil
	}
	go func() {
		<-ctx.Done()
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Close(cctx); err != nil {
			log.Warn("close dns", "err", err)
		}
	}()
	host, _, _ := net.SplitHostPort(srv.Addr())
	return &podruntime.ClusterDNS{Nameserver: host, Domain: clusterDomain}
}

// serviceCIDR is the configured service range.
func (a *Agent) serviceCIDR() string {
	if a.cfg.ServiceCIDR != "" {
		return a.cfg.ServiceCIDR
	}
	return DefaultConfig().ServiceCIDR
}

// hostUpstreams are the nameservers of the agent's /etc/resolv.conf, for
// names outside the cluster domain, without the node's own DNS address.
func hostUpstreams(self string) []string {
	b, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		ip, err := netip.ParseAddr(f[1])
		if err != nil {
			continue
		}
		if up := net.JoinHostPort(ip.String(), "53"); up != self {
			out = append(out, up)
		}
	}
	return out
}

// serviceState is what a server's local state offers the node's Services
// (consensus.FSM).
type serviceState interface {
	Services(filter func(*api.Service) bool) ([]*api.Service, uint64)
	EndpointSlices(filter func(*api.EndpointSlice) bool) ([]*api.EndpointSlice, uint64)
	Pods(filter func(*api.Pod) bool) ([]*api.Pod, uint64)
	WaitIndex(ctx context.Context, after uint64) (uint64, error)
}

// serviceSource is node.ServiceSource: a server reads its own state (so
// DNS and the rules keep what it last knew when cut off); a client
// follows the fleet through watches (wire_node_services_watch.go).
type serviceSource struct {
	a      *Agent
	client *watchedServices
}

func (s serviceSource) Services(ctx context.Context, after uint64, wait time.Duration) (*node.ServiceView, error) {
	if st, ok := s.a.fsm().(serviceState); ok {
		return localServices(ctx, st, after, wait)
	}
	return s.client.Services(ctx, after, wait)
}

// localServices is the blocking query on a server's own state.
func localServices(ctx context.Context, st serviceState, after uint64, wait time.Duration) (*node.ServiceView, error) {
	wctx, cancel := context.WithTimeout(ctx, wait)
	_, err := st.WaitIndex(wctx, after)
	cancel()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	svcs, idx := st.Services(nil)
	slices, _ := st.EndpointSlices(nil)
	v := &node.ServiceView{Index: idx, Services: make([]api.Service, 0, len(svcs)), Slices: make([]api.EndpointSlice, 0, len(slices))}
	for _, svc := range svcs {
		v.Services = append(v.Services, *svc)
	}
	for _, es := range slices {
		v.Slices = append(v.Slices, *es)
	}
	// The filter runs under the state's lock and keeps nothing: only the
	// addresses are copied out, not every pod.
	st.Pods(func(p *api.Pod) bool {
		v.Pods = appendPodAddr(v.Pods, p)
		return false
	})
	return v, nil
}

func appendPodAddr(dst []node.PodAddr, p *api.Pod) []node.PodAddr {
	if ip, err := netip.ParseAddr(p.Status.PodIP); err == nil && ip.Is4() {
		dst = append(dst, node.PodAddr{Namespace: p.ObjectMeta.Namespace, IP: ip})
	}
	return dst
}
