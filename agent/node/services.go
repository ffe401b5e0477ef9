package node

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/shoal-dev/shoal/agent/node/dns"
	"github.com/shoal-dev/shoal/agent/node/svcproxy"
	"github.com/shoal-dev/shoal/api"
)

// ServiceView is the fleet's Services, EndpointSlices and pod addresses at
// a state index: what the node's service proxy and DNS server serve.
type ServiceView struct {
	Index    uint64
	Services []api.Service
	Slices   []api.EndpointSlice
	// Pods are the pods that have an IP, for the A-B-C-D.NS.pod records.
	Pods []PodAddr
	// PodIPs, when set, answers for the pods instead of Pods: a source
	// that keeps the fleet's pod addresses itself (a client node's
	// watches) need not copy them all into every view.
	PodIPs PodIPSet
}

// PodIPSet reports whether a pod in a namespace has an IP; safe for
// concurrent use.
type PodIPSet interface {
	HasPodIP(PodAddr) bool
}

// PodAddr is one pod's namespace and IP.
type PodAddr struct {
	Namespace string
	IP        netip.Addr
}

// ServiceSource reads the fleet's Services. Like AssignmentSource it is a
// blocking query: it answers at once when its copy is newer than index
// after, else when it becomes so or wait has passed.
type ServiceSource interface {
	Services(ctx context.Context, after uint64, wait time.Duration) (*ServiceView, error)
}

// ServiceProxy programs the node's service rules (*svcproxy.Proxy).
type ServiceProxy interface {
	Sync(ctx context.Context, svcs []svcproxy.Service) error
}

// ServiceConfig says how the node follows the fleet's Services.
type ServiceConfig struct {
	// Wait is how long one blocking query waits; 30s if 0.
	Wait time.Duration
	// Retry is the pause after a failed query or sync; 1s if 0.
	Retry time.Duration
	Log   *slog.Logger
}

// Services keeps the node's service proxy equal to the fleet's Services
// and their ready endpoints, and answers DNS lookups (dns.Lookup) from the
// last view it read, so a node cut off from the fleet still resolves what
// it last knew.
type Services struct {
	cfg   ServiceConfig
	src   ServiceSource
	proxy ServiceProxy // nil: DNS only
	index atomic.Pointer[serviceIndex]
}

// NewServices builds the follower; Run starts it. proxy may be nil.
func NewServices(cfg ServiceConfig, src ServiceSource, proxy ServiceProxy) (*Services, error) {
	if src == nil {
		return nil, fmt.Errorf("node services: a source is required")
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 30 * time.Second
	}
	if cfg.Retry <= 0 {
		cfg.Retry = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Services{cfg: cfg, src: src, proxy: proxy}
	s.index.Store(&serviceIndex{})
	return s, nil
}

// Run follows the source until ctx is done. The first successful sync
// replaces whatever table a previous agent left, so an agent restart never
// interrupts Service traffic; Run never removes the table itself.
func (s *Services) Run(ctx context.Context) {
	var (
		after  uint64
		synced bool
		last   []svcproxy.Service
	)
	for ctx.Err() == nil {
		v, err := s.src.Services(ctx, after, s.cfg.Wait)
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Log.Warn("read the fleet's services", "err", err)
				s.pause(ctx)
			}
			continue
		}
		after = v.Index
		idx, proxied := translate(v)
		s.index.Store(idx)
		if s.proxy == nil || (synced && reflect.DeepEqual(proxied, last)) {
			continue
		}
		if err := s.proxy.Sync(ctx, proxied); err != nil {
			if ctx.Err() == nil {
				s.cfg.Log.Error("sync service rules", "services", len(proxied), "index", v.Index, "err", err)
				// Ask again at once after the pause: the sync is retried
				// even when nothing changes in the fleet.
				synced, after = false, 0
				s.pause(ctx)
			}
			continue
		}
		synced, last = true, proxied
		s.cfg.Log.Debug("service rules synced", "services", len(proxied), "index", v.Index)
	}
}

func (s *Services) pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(s.cfg.Retry):
	}
}

// Service is dns.Lookup's: the Service as the last view had it.
func (s *Services) Service(namespace, name string) (dns.Service, bool) {
	svc, ok := s.index.Load().services[namespace+"/"+name]
	return svc, ok
}

// PodIP is dns.Lookup's: whether a pod in namespace had ip in the last view.
func (s *Services) PodIP(namespace string, ip netip.Addr) bool {
	idx := s.index.Load()
	if idx.podSet != nil {
		return idx.podSet.HasPodIP(PodAddr{Namespace: namespace, IP: ip})
	}
	return idx.pods[PodAddr{Namespace: namespace, IP: ip}]
}

// serviceIndex is one view as DNS reads it; never changed once stored.
type serviceIndex struct {
	services map[string]dns.Service // by namespace/name
	pods     map[PodAddr]bool
	podSet   PodIPSet // the view's PodIPs, when it had them
}

// translate turns a view into DNS's index and the proxy's Services (those
// with a ClusterIP), with only ready endpoints and target ports resolved
// through the EndpointSlices' named ports.
func translate(v *ServiceView) (*serviceIndex, []svcproxy.Service) {
	bySvc := map[string][]*api.EndpointSlice{}
	for i := range v.Slices {
		es := &v.Slices[i]
		if es.AddressType != "" && es.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		name := es.ObjectMeta.Labels[discoveryv1.LabelServiceName]
		if name == "" {
			continue
		}
		k := es.ObjectMeta.Namespace + "/" + name
		bySvc[k] = append(bySvc[k], es)
	}
	idx := &serviceIndex{services: make(map[string]dns.Service, len(v.Services)), podSet: v.PodIPs}
	if v.PodIPs == nil {
		idx.pods = make(map[PodAddr]bool, len(v.Pods))
		for _, p := range v.Pods {
			idx.pods[p] = true
		}
	}
	var proxied []svcproxy.Service
	for i := range v.Services {
		svc := &v.Services[i]
		key := svc.ObjectMeta.Namespace + "/" + svc.ObjectMeta.Name
		ps := proxyService(svc, bySvc[key])
		idx.services[key] = dnsService(ps, bySvc[key])
		if ps.ClusterIP.IsValid() {
			proxied = append(proxied, ps)
		}
	}
	dropTakenExternalIPs(proxied)
	return idx, proxied
}

// dropTakenExternalIPs keeps an external IP only where none of its
// Service's ports is served there already, by a ClusterIP or by an
// earlier Service's external IP: nothing in the API stops two Services
// from naming one, and the proxy refuses a table where one address and
// port goes two ways (every Service would lose its update).
func dropTakenExternalIPs(svcs []svcproxy.Service) {
	type vip struct {
		ip    netip.Addr
		proto svcproxy.Protocol
		port  uint16
	}
	taken := map[vip]bool{}
	for _, s := range svcs {
		for _, p := range s.Ports {
			taken[vip{s.ClusterIP, p.Protocol, p.Port}] = true
		}
	}
	for i := range svcs {
		s := &svcs[i]
		var kept []netip.Addr
		for _, ip := range s.ExternalIPs {
			free := true
			for _, p := range s.Ports {
				free = free && !taken[vip{ip, p.Protocol, p.Port}]
			}
			if !free {
				continue
			}
			for _, p := range s.Ports {
				taken[vip{ip, p.Protocol, p.Port}] = true
			}
			kept = append(kept, ip)
		}
		s.ExternalIPs = kept
	}
}

// proxyService is svc with its ready endpoints from slices.
func proxyService(svc *api.Service, slices []*api.EndpointSlice) svcproxy.Service {
	out := svcproxy.Service{Namespace: svc.ObjectMeta.Namespace, Name: svc.ObjectMeta.Name}
	if ip, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil && ip.Is4() {
		out.ClusterIP = ip
	}
	for _, p := range svc.Spec.Ports {
		proto := svcproxy.Protocol(p.Protocol)
		if proto == "" {
			proto = svcproxy.TCP
		}
		if proto != svcproxy.TCP && proto != svcproxy.UDP {
			continue // SCTP: not proxied
		}
		port := svcproxy.Port{Name: p.Name, Protocol: proto, Port: uint16(p.Port), NodePort: uint16(p.NodePort)}
		switch {
		case p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal > 0:
			port.TargetPort = uint16(p.TargetPort.IntVal)
		case p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal == 0:
			port.TargetPort = uint16(p.Port) // unset targetPort means port
		}
		// A named targetPort leaves 0: each endpoint names its own port.
		out.Ports = append(out.Ports, port)
	}
	if out.ClusterIP.IsValid() {
		for _, a := range svc.Spec.ExternalIPs {
			if ip, err := netip.ParseAddr(a); err == nil && ip.Is4() {
				out.ExternalIPs = append(out.ExternalIPs, ip)
			}
		}
	}
	if svc.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		timeout := int32(corev1.DefaultClientIPServiceAffinitySeconds)
		if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
			timeout = *c.ClientIP.TimeoutSeconds
		}
		out.SessionAffinity = &svcproxy.ClientIPAffinity{Timeout: time.Duration(timeout) * time.Second}
	}
	seen := map[netip.Addr]bool{}
	for _, es := range slices {
		ports := map[string]uint16{}
		for _, p := range es.Ports {
			if p.Port == nil || *p.Port <= 0 || *p.Port > 65535 {
				continue
			}
			name := ""
			if p.Name != nil {
				name = *p.Name
			}
			ports[name] = uint16(*p.Port)
		}
		for _, ep := range es.Endpoints {
			// Kubernetes: a nil ready condition means ready.
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, a := range ep.Addresses {
				ip, err := netip.ParseAddr(a)
				if err != nil || !ip.Is4() || seen[ip] {
					continue
				}
				seen[ip] = true
				out.Endpoints = append(out.Endpoints, svcproxy.Endpoint{IP: ip, Ports: ports})
			}
		}
	}
	return out
}

// dnsService is what DNS answers for a Service: the ClusterIP (or the
// ready endpoints when headless), its ports, endpoints' hostnames.
func dnsService(ps svcproxy.Service, slices []*api.EndpointSlice) dns.Service {
	out := dns.Service{ClusterIP: ps.ClusterIP}
	for _, p := range ps.Ports {
		out.Ports = append(out.Ports, dns.Port{Name: p.Name, Protocol: string(p.Protocol), Port: p.Port})
	}
	hostnames := map[netip.Addr]string{}
	for _, es := range slices {
		for _, ep := range es.Endpoints {
			if ep.Hostname == nil {
				continue
			}
			for _, a := range ep.Addresses {
				if ip, err := netip.ParseAddr(a); err == nil {
					hostnames[ip] = *ep.Hostname
				}
			}
		}
	}
	for _, ep := range ps.Endpoints {
		out.Endpoints = append(out.Endpoints, dns.Endpoint{IP: ep.IP, Hostname: hostnames[ep.IP]})
	}
	return out
}
