package node

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/shoal-dev/shoal/agent/node/dns"
	"github.com/shoal-dev/shoal/agent/node/svcproxy"
	"github.com/shoal-dev/shoal/api"
)

func svcOf(ns, name, clusterIP string, ports ...api.ServicePort) api.Service {
	var s api.Service
	s.ObjectMeta.Namespace, s.ObjectMeta.Name = ns, name
	s.Spec.ClusterIP = clusterIP
	s.Spec.Ports = ports
	return s
}

func sliceOf(ns, svc, name string, ports map[string]int32, eps ...discoveryv1.Endpoint) api.EndpointSlice {
	var es api.EndpointSlice
	es.ObjectMeta.Namespace, es.ObjectMeta.Name = ns, name
	es.ObjectMeta.Labels = map[string]string{discoveryv1.LabelServiceName: svc}
	es.AddressType = discoveryv1.AddressTypeIPv4
	for n, p := range ports {
		es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: ptr(n), Port: ptr(p)})
	}
	es.Endpoints = eps
	return es
}

func ep(ip string, ready bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(ready)}}
}

func ptr[T any](v T) *T { return &v }

func TestTranslateKeepsReadyEndpointsAndResolvesNamedPorts(t *testing.T) {
	web := svcOf("default", "web", "10.96.0.10",
		api.ServicePort{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromString("web")},
		api.ServicePort{Name: "metrics", Protocol: corev1.ProtocolTCP, Port: 9090, TargetPort: intstr.FromInt32(9100)},
		api.ServicePort{Name: "sctp", Protocol: corev1.ProtocolSCTP, Port: 7})
	web.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	headless := svcOf("default", "db", "None", api.ServicePort{Name: "pg", Protocol: corev1.ProtocolTCP, Port: 5432})
	other := svcOf("prod", "web", "10.96.0.11", api.ServicePort{Protocol: corev1.ProtocolUDP, Port: 53})
	dbEp := ep("10.244.1.7", true)
	dbEp.Hostname = ptr("db-0")
	v := &ServiceView{
		Index:    7,
		Services: []api.Service{web, headless, other},
		Slices: []api.EndpointSlice{
			sliceOf("default", "web", "web-a", map[string]int32{"http": 8080, "metrics": 9100}, ep("10.244.1.2", true), ep("10.244.2.3", false)),
			// A second slice of the same Service, its pod with another port.
			sliceOf("default", "web", "web-b", map[string]int32{"http": 8081}, ep("10.244.3.4", true), discoveryv1.Endpoint{Addresses: []string{"10.244.3.5"}}),
			sliceOf("default", "db", "db-a", map[string]int32{"pg": 5432}, dbEp),
			// Same name in another namespace: not web's.
			sliceOf("other", "web", "web-x", map[string]int32{"http": 1}, ep("10.244.9.9", true)),
		},
		Pods: []PodAddr{{Namespace: "default", IP: netip.MustParseAddr("10.244.1.2")}},
	}
	idx, proxied := translate(v)

	want := []svcproxy.Service{
		{Namespace: "default", Name: "web", ClusterIP: netip.MustParseAddr("10.96.0.10"),
			Ports: []svcproxy.Port{
				{Name: "http", Protocol: svcproxy.TCP, Port: 80},
				{Name: "metrics", Protocol: svcproxy.TCP, Port: 9090, TargetPort: 9100},
			},
			SessionAffinity: &svcproxy.ClientIPAffinity{Timeout: 10800 * time.Second},
			Endpoints: []svcproxy.Endpoint{
				{IP: netip.MustParseAddr("10.244.1.2"), Ports: map[string]uint16{"http": 8080, "metrics": 9100}},
				{IP: netip.MustParseAddr("10.244.3.4"), Ports: map[string]uint16{"http": 8081}},
				// No ready condition means ready (Kubernetes' rule).
				{IP: netip.MustParseAddr("10.244.3.5"), Ports: map[string]uint16{"http": 8081}},
			}},
		{Namespace: "prod", Name: "web", ClusterIP: netip.MustParseAddr("10.96.0.11"),
			Ports: []svcproxy.Port{{Protocol: svcproxy.UDP, Port: 53, TargetPort: 53}}},
	}
	if !reflect.DeepEqual(proxied, want) {
		t.Fatalf("proxied:\n got %+v\nwant %+v", proxied, want)
	}
	if err := svcproxy.Validate(proxied); err != nil {
		t.Fatalf("the proxy refuses the translation: %v", err)
	}

	db, ok := idx.services["default/db"]
	if !ok || db.ClusterIP.IsValid() || len(db.Endpoints) != 1 || db.Endpoints[0].Hostname != "db-0" {
		t.Fatalf("headless db for DNS = %+v, %v", db, ok)
	}
	if w := idx.services["default/web"]; w.ClusterIP != netip.MustParseAddr("10.96.0.10") || len(w.Ports) != 2 {
		t.Fatalf("web for DNS = %+v", w)
	}
	if !idx.pods[PodAddr{"default", netip.MustParseAddr("10.244.1.2")}] || idx.pods[PodAddr{"prod", netip.MustParseAddr("10.244.1.2")}] {
		t.Fatalf("pod index %v", idx.pods)
	}
}

// viewSource hands out queued views, then blocks as an idle blocking query.
type viewSource struct {
	views chan *ServiceView
	errs  chan error
}

func (s *viewSource) Services(ctx context.Context, after uint64, wait time.Duration) (*ServiceView, error) {
	select {
	case v := <-s.views:
		return v, nil
	case err := <-s.errs:
		return nil, err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// recordingProxy records every sync; fail makes the next one fail.
type recordingProxy struct {
	mu    sync.Mutex
	syncs [][]svcproxy.Service
	fail  int
	done  chan struct{}
}

func (p *recordingProxy) Sync(ctx context.Context, svcs []svcproxy.Service) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer func() { p.done <- struct{}{} }()
	if p.fail > 0 {
		p.fail--
		return errors.New("nft failed")
	}
	p.syncs = append(p.syncs, svcs)
	return nil
}

func (p *recordingProxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.syncs)
}

func TestServicesSyncOnChangeOnlyAndRetryAFailedSync(t *testing.T) {
	src := &viewSource{views: make(chan *ServiceView, 10), errs: make(chan error, 1)}
	proxy := &recordingProxy{fail: 1, done: make(chan struct{}, 10)}
	s, err := NewServices(ServiceConfig{Retry: time.Millisecond}, src, proxy)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)

	// The first view has no Services: it is still synced (it replaces a
	// table a previous agent left), after one failed attempt.
	src.views <- &ServiceView{Index: 1}
	<-proxy.done // failed
	src.views <- &ServiceView{Index: 1}
	<-proxy.done
	if proxy.count() != 1 || len(proxy.syncs[0]) != 0 {
		t.Fatalf("syncs %v", proxy.syncs)
	}

	web := svcOf("default", "web", "10.96.0.10", api.ServicePort{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(8080)})
	src.views <- &ServiceView{Index: 2, Services: []api.Service{web}}
	<-proxy.done
	// A view with the same Services (another kind changed): no sync, but
	// DNS sees the new pod.
	src.errs <- errors.New("server gone")
	src.views <- &ServiceView{Index: 3, Services: []api.Service{web}, Pods: []PodAddr{{"default", netip.MustParseAddr("10.244.0.5")}}}
	deadline := time.Now().Add(5 * time.Second)
	for !s.PodIP("default", netip.MustParseAddr("10.244.0.5")) {
		if time.Now().After(deadline) {
			t.Fatal("DNS never saw the pod of view 3")
		}
		time.Sleep(time.Millisecond)
	}
	// View 4 changes a Service; its sync comes after view 3 was handled,
	// so the count says whether view 3 synced.
	web2 := svcOf("default", "web", "10.96.0.10", api.ServicePort{Name: "http", Protocol: corev1.ProtocolTCP, Port: 81})
	src.views <- &ServiceView{Index: 4, Services: []api.Service{web2}}
	<-proxy.done
	if n := proxy.count(); n != 3 || proxy.syncs[2][0].Ports[0].Port != 81 {
		t.Fatalf("syncs %+v, want 3 (view 3 changed no Service), the last with port 81", proxy.syncs)
	}
	got, ok := s.Service("default", "web")
	if !ok || got.ClusterIP != netip.MustParseAddr("10.96.0.10") {
		t.Fatalf("DNS web = %+v, %v", got, ok)
	}
	var _ dns.Lookup = s
}

// externalIPs are proxied beside the ClusterIP; one that a ClusterIP or an
// earlier Service already serves on the same port is left out, so one
// Service's mistake cannot stop every Service's rules from updating.
func TestExternalIPsTakenElsewhereAreLeftOut(t *testing.T) {
	http := api.ServicePort{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}
	a := svcOf("default", "a", "10.96.0.10", http)
	a.Spec.ExternalIPs = []string{"192.0.2.1", "10.96.0.11", "192.0.2.1"}
	b := svcOf("default", "b", "10.96.0.11", http)
	b.Spec.ExternalIPs = []string{"192.0.2.1", "192.0.2.2"}
	headless := svcOf("default", "h", "None", http)
	headless.Spec.ExternalIPs = []string{"192.0.2.3"}
	_, proxied := translate(&ServiceView{Services: []api.Service{a, b, headless}})
	got := map[string][]netip.Addr{}
	for _, s := range proxied {
		got[s.Name] = s.ExternalIPs
	}
	want := map[string][]netip.Addr{
		"a": {netip.MustParseAddr("192.0.2.1")},
		"b": {netip.MustParseAddr("192.0.2.2")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("external IPs proxied: %v, want %v", got, want)
	}
	if err := svcproxy.Validate(proxied); err != nil {
		t.Fatalf("the proxy refuses what translate kept: %v", err)
	}
}
