package controllers

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"sort"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// The `kubernetes` Service in `default`, as every Kubernetes cluster has
// it: the first address of the service range, port 443 (https), no
// selector, its Endpoints and EndpointSlice the API addresses of the
// agents gossip holds alive. Pods reach the API through it
// (KUBERNETES_SERVICE_HOST/PORT, kubernetes.default.svc), and when the
// agent they talk to is lost the next pass drops it, so the Service moves
// them to another.

const (
	apiServiceName = "kubernetes"
	apiServicePort = 443
	// apiServiceResync bounds how long a lost agent stays among the
	// endpoints after gossip drops it (gossip changes also wake the loop).
	apiServiceResync = 2 * time.Second
)

// APIServiceIP is the ClusterIP of the `kubernetes` Service: the first
// address of the service range ("" is consensus.DefaultServiceCIDR).
func APIServiceIP(serviceCIDR string) (netip.Addr, error) {
	if serviceCIDR == "" {
		serviceCIDR = consensus.DefaultServiceCIDR
	}
	p, err := netip.ParsePrefix(serviceCIDR)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("service CIDR %q: %w", serviceCIDR, err)
	}
	return p.Masked().Addr().Next(), nil
}

func (l *Leader) apiServiceController(ctx context.Context) {
	ss, _ := l.state.(ServiceStore)
	if ss == nil || l.members == nil {
		return
	}
	ip, err := APIServiceIP(l.cfg.ServiceCIDR)
	if err != nil {
		l.log.Warn("kubernetes service: no address", "err", err)
		return
	}
	for ctx.Err() == nil {
		changed := l.members.Changes()
		if err := l.syncAPIService(ctx, ss, ip); err != nil && ctx.Err() == nil {
			l.log.Warn("kubernetes service", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-time.After(apiServiceResync):
		}
	}
}

// syncAPIService makes one step: the Service when it is missing, then its
// Endpoints and EndpointSlice when they differ from the live agents.
func (l *Leader) syncAPIService(ctx context.Context, ss ServiceStore, ip netip.Addr) error {
	addrs, port := apiAddresses(l.members.Members())
	if len(addrs) == 0 {
		return nil
	}
	svcs, _ := ss.Services(func(s *api.Service) bool {
		return s.Namespace == api.DefaultNamespace && s.Name == apiServiceName
	})
	var svc *api.Service
	if len(svcs) == 1 {
		svc = svcs[0]
	} else {
		want := api.Service{ObjectMeta: api.ObjectMeta{Namespace: api.DefaultNamespace, Name: apiServiceName,
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
			Spec: api.ServiceSpec{ClusterIP: ip.String(), Ports: []api.ServicePort{{Name: "https", Protocol: api.ProtocolTCP,
				Port: apiServicePort, TargetPort: intstr.FromInt32(port)}}}}
		res, err := l.seat.Apply(ctx, consensus.ApplyService{Service: want, Create: true, UID: uuid.NewUUID(),
			ServiceCIDR: l.cfg.ServiceCIDR, Time: time.Now().UTC()})
		if err != nil && !consensus.IsAlreadyExists(err) {
			return fmt.Errorf("create: %w", err)
		}
		if err != nil {
			return nil // the next pass reads it
		}
		svc = res.Service
		l.log.Info("kubernetes service: created", "clusterIP", svc.Spec.ClusterIP)
	}
	if svc.Spec.Selector != nil {
		return nil // a user's own Service of that name: the endpoints controller keeps it
	}
	return l.putAPIEndpoints(ctx, ss, svc, addrs, port)
}

// apiAddresses are the API IPs of the alive agents, sorted, and the port
// they serve on (the first agent's: every agent of a fleet listens on the
// same port).
func apiAddresses(members []Member) ([]string, int32) {
	var ips []string
	var port int32
	for _, m := range members {
		if !m.Alive || m.API == "" {
			continue
		}
		host, p, err := net.SplitHostPort(m.API)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil {
			continue
		}
		if port == 0 {
			port = int32(n)
		}
		if int32(n) == port {
			ips = append(ips, host)
		}
	}
	sort.Strings(ips)
	return ips, port
}

func (l *Leader) putAPIEndpoints(ctx context.Context, ss ServiceStore, svc *api.Service, ips []string, port int32) error {
	now := time.Now().UTC()
	subset := api.EndpointSubset{Ports: []api.EndpointPort{{Name: "https", Port: port, Protocol: api.ProtocolTCP}}}
	for _, ip := range ips {
		subset.Addresses = append(subset.Addresses, api.EndpointAddress{IP: ip})
	}
	eps, _ := ss.ListEndpoints(func(e *api.Endpoints) bool {
		return e.Namespace == api.DefaultNamespace && e.Name == apiServiceName
	})
	if len(eps) == 0 || !reflect.DeepEqual(eps[0].Subsets, []api.EndpointSubset{subset}) {
		want := api.Endpoints{ObjectMeta: api.ObjectMeta{Namespace: api.DefaultNamespace, Name: apiServiceName,
			Labels: map[string]string{"endpointslice.kubernetes.io/skip-mirror": "true"}},
			Subsets: []api.EndpointSubset{subset}}
		if len(eps) == 1 {
			want.ResourceVersion = eps[0].ResourceVersion
		}
		if _, err := l.seat.Apply(ctx, consensus.PutEndpoints{Endpoints: want, ServiceUID: svc.UID, UID: uuid.NewUUID(), Time: now}); err != nil {
			return fmt.Errorf("endpoints: %w", err)
		}
	}
	ready, name, proto := true, "https", api.ProtocolTCP
	slice := api.EndpointSlice{ObjectMeta: api.ObjectMeta{Namespace: api.DefaultNamespace, Name: apiServiceName,
		Labels: map[string]string{api.LabelServiceName: apiServiceName, api.LabelManagedBy: "shoal-leader"}},
		AddressType: api.AddressTypeIPv4, Ports: []api.SlicePort{{Name: &name, Port: &port, Protocol: &proto}}}
	for _, ip := range ips {
		slice.Endpoints = append(slice.Endpoints, api.SliceEndpoint{Addresses: []string{ip}, Conditions: api.SliceConditions{Ready: &ready}})
	}
	slices, _ := ss.EndpointSlices(func(s *api.EndpointSlice) bool {
		return s.Namespace == api.DefaultNamespace && s.Name == apiServiceName
	})
	if len(slices) == 1 && reflect.DeepEqual(slices[0].Endpoints, slice.Endpoints) && reflect.DeepEqual(slices[0].Ports, slice.Ports) {
		return nil
	}
	if len(slices) == 1 {
		slice.ResourceVersion = slices[0].ResourceVersion
	}
	if _, err := l.seat.Apply(ctx, consensus.PutEndpointSlice{Slice: slice, ServiceUID: svc.UID, UID: uuid.NewUUID(), Time: now}); err != nil {
		return fmt.Errorf("endpointslice: %w", err)
	}
	return nil
}
