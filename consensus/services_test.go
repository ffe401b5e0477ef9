package consensus

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

func service(name string, ports ...int32) api.Service {
	s := api.Service{ObjectMeta: api.ObjectMeta{Name: name}, Spec: api.ServiceSpec{Selector: map[string]string{"app": name}}}
	for i, p := range ports {
		s.Spec.Ports = append(s.Spec.Ports, api.ServicePort{Name: "p" + string(rune('0'+i)), Port: p})
	}
	return s
}

func nodePortService(name string, ports ...int32) api.Service {
	s := service(name, ports...)
	s.Spec.Type = api.ServiceTypeNodePort
	return s
}

func withClusterIP(s api.Service, ip string) api.Service {
	s.Spec.ClusterIP = ip
	return s
}

func createService(s api.Service) ApplyService {
	return ApplyService{Service: s, Create: true, UID: api.UID("uid-" + s.Name), Time: t0}
}

// fieldError expects err to be an InvalidError with exactly one field
// error, at path, naming value.
func fieldError(t *testing.T, err error, path, value, detail string) {
	t.Helper()
	fes := api.AsFieldErrors(err)
	if !IsInvalid(err) || len(fes) != 1 || fes[0].Path != path || fes[0].Value != value || !strings.Contains(fes[0].Detail, detail) {
		t.Fatalf("err = %v, want one field error %s %q: %s", err, path, value, detail)
	}
}

func TestClusterIPsAreAllocatedDeterministicallyAndReleasedOnDelete(t *testing.T) {
	h := newHarness(t)
	ip := func(res *Result) string { return res.Service.Spec.ClusterIP }
	// Automatic addresses start above the /16's static band of 256, which
	// stays free for addresses asked for by number.
	a, err := h.do(createService(service("a", 80)))
	if err != nil || ip(a) != "10.96.1.0" || a.Service.Spec.ClusterIPs[0] != "10.96.1.0" || !a.Created {
		t.Fatalf("first Service: %+v, %v", a, err)
	}
	b, _ := h.do(createService(service("b", 80)))
	if ip(b) != "10.96.1.1" {
		t.Fatalf("second Service got %s, want 10.96.1.1", ip(b))
	}
	dns, err := h.do(createService(withClusterIP(service("dns", 53), "10.96.0.10")))
	if err != nil || ip(dns) != "10.96.0.10" {
		t.Fatalf("requested 10.96.0.10: %+v, %v", dns, err)
	}
	before := h.stateJSON()
	for _, c := range []struct{ ip, detail string }{
		{"10.96.0.10", "already allocated to Service default/dns"},
		{"10.96.1.1", "already allocated to Service default/b"},
		{"10.97.0.1", "not in the service range 10.96.0.0/16"},
		{"10.96.0.0", "the network address"},
		{"10.96.255.255", "the broadcast address"},
	} {
		_, err := h.do(createService(withClusterIP(service("c", 80), c.ip)))
		fieldError(t, err, "spec.clusterIP", c.ip, c.detail)
	}
	if h.stateJSON() != before {
		t.Fatal("a refused Service changed the state")
	}

	h.must(DeleteService{Namespace: "default", Name: "a"})
	c, _ := h.do(createService(service("c", 80)))
	if ip(c) != "10.96.1.0" {
		t.Fatalf("after a's delete the next Service got %s, want a's 10.96.1.0 again", ip(c))
	}
	headless, err := h.do(createService(withClusterIP(service("db"), api.ClusterIPNone)))
	if err != nil || ip(headless) != api.ClusterIPNone {
		t.Fatalf("headless: %+v, %v", headless, err)
	}
	d, _ := h.do(createService(service("d", 80)))
	if ip(d) != "10.96.1.2" {
		t.Fatalf("a headless Service took an address: next is %s, want 10.96.1.2", ip(d))
	}
}

func TestServiceRangeComesWithTheCommand(t *testing.T) {
	h := newHarness(t)
	cmd := createService(service("a", 80))
	cmd.ServiceCIDR = "10.100.0.0/24"
	res, err := h.do(cmd)
	// A /24's static band is its lowest 16 addresses.
	if err != nil || res.Service.Spec.ClusterIP != "10.100.0.16" {
		t.Fatalf("from 10.100.0.0/24: %+v, %v", res, err)
	}
	small := createService(service("b", 80))
	small.ServiceCIDR = "10.101.0.0/30"
	if _, err := h.do(small); !IsRejected(err) || !strings.Contains(err.Error(), "/30: must be between /12 and /28") {
		t.Fatalf("a /30: %v", err)
	}
	// A /28 has no room for a band: every address but the network and
	// broadcast ones is handed out, lowest first, and then none is left.
	for i := 1; i <= 14; i++ {
		cmd := createService(service("s"+string(rune('a'+i)), 80))
		cmd.ServiceCIDR = "10.102.0.0/28"
		res, err := h.do(cmd)
		if err != nil || res.Service.Spec.ClusterIP != "10.102.0."+itoa(i) {
			t.Fatalf("service %d of a /28: %+v, %v", i, res, err)
		}
	}
	full := createService(service("full", 80))
	full.ServiceCIDR = "10.102.0.0/28"
	if _, err := h.do(full); !IsRejected(err) || !strings.Contains(err.Error(), "no free address") {
		t.Fatalf("full range: %v", err)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestNodePortsAreAllocatedCheckedAndReleased(t *testing.T) {
	h := newHarness(t)
	a, err := h.do(createService(nodePortService("a", 80, 443)))
	if err != nil || a.Service.Spec.Ports[0].NodePort != 30000 || a.Service.Spec.Ports[1].NodePort != 30001 {
		t.Fatalf("a: %+v, %v", a, err)
	}
	asked := nodePortService("b", 80)
	asked.Spec.Ports[0].NodePort = 30001
	_, err = h.do(createService(asked))
	fieldError(t, err, "spec.ports[0].nodePort", "30001", "already allocated to Service default/a")

	// One number over TCP and UDP is one node port, as in Kubernetes.
	dns := nodePortService("dns", 53, 53)
	dns.Spec.Ports[1].Protocol = api.ProtocolUDP
	res, err := h.do(createService(dns))
	if err != nil || res.Service.Spec.Ports[0].NodePort != 30002 || res.Service.Spec.Ports[1].NodePort != 30002 {
		t.Fatalf("dns over TCP and UDP: %+v, %v", res, err)
	}

	h.must(DeleteService{Namespace: "default", Name: "a"})
	asked.Spec.Ports[0].NodePort = 30001
	if res, err := h.do(createService(asked)); err != nil || res.Service.Spec.Ports[0].NodePort != 30001 {
		t.Fatalf("30001 after a's delete: %+v, %v", res, err)
	}
	res, err = h.do(createService(nodePortService("c", 80)))
	if err != nil || res.Service.Spec.Ports[0].NodePort != 30000 {
		t.Fatalf("c: %+v, %v, want the released 30000", res, err)
	}
}

func TestServiceUpdateKeepsWhatWasAllocated(t *testing.T) {
	h := newHarness(t)
	created, err := h.do(createService(nodePortService("web", 80)))
	if err != nil {
		t.Fatal(err)
	}
	stored := created.Service
	if _, err := h.do(createService(nodePortService("web", 80))); !IsAlreadyExists(err) {
		t.Fatalf("second create: %v", err)
	}
	// The manifest applied again has no clusterIP or nodePort: no change.
	res, err := h.do(ApplyService{Service: nodePortService("web", 80), Time: t0})
	if err != nil || res.Changed || res.Service.Spec.ClusterIP != stored.Spec.ClusterIP {
		t.Fatalf("same manifest: %+v, %v", res, err)
	}
	next := nodePortService("web", 80)
	next.Spec.Selector = map[string]string{"app": "web2"}
	res, err = h.do(ApplyService{Service: next, Time: t0})
	if err != nil || !res.Changed || res.Service.Spec.ClusterIP != stored.Spec.ClusterIP ||
		res.Service.Spec.Ports[0].NodePort != 30000 || res.Service.ObjectMeta.ResourceVersion == stored.ObjectMeta.ResourceVersion ||
		res.Service.ObjectMeta.UID != "uid-web" {
		t.Fatalf("new selector: %+v, %v", res.Service, err)
	}
	_, err = h.do(ApplyService{Service: withClusterIP(nodePortService("web", 80), "10.96.7.7"), Time: t0})
	fieldError(t, err, "spec.clusterIP", "10.96.7.7", "field is immutable")
	stale := *res.Service.DeepCopy()
	stale.ObjectMeta.ResourceVersion = stored.ObjectMeta.ResourceVersion
	if _, err := h.do(ApplyService{Service: stale, Time: t0}); !IsConflict(err) {
		t.Fatalf("stale resourceVersion: %v", err)
	}

	// kubectl edit of type NodePort -> ClusterIP sends the node ports
	// back: they are dropped and released.
	edited := *res.Service.DeepCopy()
	edited.Spec.Type = api.ServiceTypeClusterIP
	res, err = h.do(ApplyService{Service: edited, Time: t0})
	if err != nil || res.Service.Spec.Ports[0].NodePort != 0 || res.Service.Spec.ExternalTrafficPolicy != "" {
		t.Fatalf("to ClusterIP: %+v, %v", res, err)
	}
	if res, err := h.do(createService(nodePortService("other", 80))); err != nil || res.Service.Spec.Ports[0].NodePort != 30000 {
		t.Fatalf("web's released node port: %+v, %v", res, err)
	}
	// Back to NodePort: a new node port.
	res, err = h.do(ApplyService{Service: nodePortService("web", 80), Time: t0})
	if err != nil || res.Service.Spec.Ports[0].NodePort != 30001 {
		t.Fatalf("back to NodePort: %+v, %v", res, err)
	}
}

func TestInvalidServicesAreRefusedNamingTheFieldAndChangeNothing(t *testing.T) {
	h := newHarness(t)
	h.must(createService(service("web", 80)))
	before := h.stateJSON()
	twoNames := service("two", 80, 81)
	twoNames.Spec.Ports[1].Name = "p0"
	for _, c := range []struct {
		svc         api.Service
		path, value string
	}{
		{service("zero", 0), "spec.ports[0].port", "0"},
		{service("big", 70000), "spec.ports[0].port", "70000"},
		{twoNames, "spec.ports[1].name", "p0"},
		{withClusterIP(service("bad", 80), "not-an-ip"), "spec.clusterIP", "not-an-ip"},
	} {
		_, err := h.do(createService(c.svc))
		fieldError(t, err, c.path, c.value, "")
	}
	if _, err := h.do(ApplyService{Service: service("nouid", 80), Time: t0}); !IsInvalid(err) {
		t.Fatalf("no UID: %v", err)
	}
	if h.stateJSON() != before {
		t.Fatal("refused Services changed the state")
	}
	if _, err := h.do(DeleteService{Namespace: "default", Name: "web", UID: "other"}); !IsConflict(err) {
		t.Fatalf("delete with another uid: %v", err)
	}
	if _, err := h.do(DeleteService{Namespace: "default", Name: "nope"}); !IsNotFound(err) {
		t.Fatalf("delete of a missing Service: %v", err)
	}
}

func endpointsFor(name string, ips ...string) api.Endpoints {
	e := api.Endpoints{ObjectMeta: api.ObjectMeta{Name: name}}
	ss := api.EndpointSubset{Ports: []api.EndpointPort{{Name: "p0", Port: 8080}}}
	for _, ip := range ips {
		ss.Addresses = append(ss.Addresses, api.EndpointAddress{IP: ip})
	}
	e.Subsets = []api.EndpointSubset{ss}
	return e
}

func sliceFor(svc, name string, ips ...string) api.EndpointSlice {
	port, pname, yes := int32(8080), "p0", true
	es := api.EndpointSlice{ObjectMeta: api.ObjectMeta{Name: name, Labels: map[string]string{
		api.LabelServiceName: svc, api.LabelManagedBy: api.EndpointSliceController}},
		AddressType: api.AddressTypeIPv4, Ports: []api.SlicePort{{Name: &pname, Port: &port}}}
	for _, ip := range ips {
		es.Endpoints = append(es.Endpoints, api.SliceEndpoint{Addresses: []string{ip}, Conditions: api.SliceConditions{Ready: &yes}})
	}
	return es
}

func TestEndpointsAreKeptForAnExistingServiceOnly(t *testing.T) {
	h := newHarness(t)
	h.must(createService(service("web", 80)))
	put := func(e api.Endpoints, svcUID api.UID) (*Result, error) {
		return h.do(PutEndpoints{Endpoints: e, ServiceUID: svcUID, UID: api.UID("uid-ep-" + e.Name), Time: t0})
	}
	res, err := put(endpointsFor("web", "10.244.0.5"), "uid-web")
	if err != nil || !res.Created || res.Endpoints.ObjectMeta.UID != "uid-ep-web" || res.Endpoints.Subsets[0].Ports[0].Protocol != api.ProtocolTCP {
		t.Fatalf("put: %+v, %v", res, err)
	}
	first := res.Endpoints.ObjectMeta.ResourceVersion
	if res, err := put(endpointsFor("web", "10.244.0.5"), "uid-web"); err != nil || res.Changed || res.Endpoints.ObjectMeta.ResourceVersion != first {
		t.Fatalf("the same endpoints again: %+v, %v, want unchanged", res, err)
	}
	res, err = put(endpointsFor("web", "10.244.0.5", "10.244.1.5"), "uid-web")
	if err != nil || !res.Changed || res.Created || res.Endpoints.ObjectMeta.UID != "uid-ep-web" || len(res.Endpoints.Subsets[0].Addresses) != 2 {
		t.Fatalf("replace: %+v, %v", res, err)
	}
	stale := endpointsFor("web", "10.244.2.5")
	stale.ObjectMeta.ResourceVersion = first
	if _, err := put(stale, "uid-web"); !IsConflict(err) {
		t.Fatalf("stale resourceVersion: %v", err)
	}
	if _, err := put(endpointsFor("web", "10.244.0.5"), "uid-old-web"); !IsConflict(err) {
		t.Fatalf("endpoints of a replaced Service: %v", err)
	}
	if _, err := put(endpointsFor("gone", "10.244.0.5"), "uid-gone"); !IsNotFound(err) {
		t.Fatalf("endpoints of a missing Service: %v", err)
	}
	if _, err := put(endpointsFor("web", "127.0.0.1"), "uid-web"); !IsInvalid(err) {
		t.Fatalf("loopback endpoint: %v", err)
	}

	putSlice := func(es api.EndpointSlice, svcUID api.UID) (*Result, error) {
		return h.do(PutEndpointSlice{Slice: es, ServiceUID: svcUID, UID: api.UID("uid-es-" + es.Name), Time: t0})
	}
	res, err = putSlice(sliceFor("web", "web-abc", "10.244.0.5"), "uid-web")
	if err != nil || !res.Created || res.EndpointSlice.APIVersion != api.DiscoveryV1 || *res.EndpointSlice.Ports[0].Protocol != api.ProtocolTCP {
		t.Fatalf("put slice: %+v, %v", res, err)
	}
	if res, err := putSlice(sliceFor("web", "web-abc", "10.244.0.5"), "uid-web"); err != nil || res.Changed {
		t.Fatalf("the same slice again: %+v, %v", res, err)
	}
	h.must(createService(service("api", 80)))
	_, err = putSlice(sliceFor("api", "web-abc", "10.244.0.5"), "uid-api")
	fieldError(t, err, "metadata.labels[kubernetes.io/service-name]", "api", "immutable")
	if _, err := putSlice(sliceFor("nope", "nope-1", "10.244.0.5"), "uid-nope"); !IsNotFound(err) {
		t.Fatalf("slice of a missing Service: %v", err)
	}
	h.must(DeleteEndpointSlice{Namespace: "default", Name: "web-abc"})
	if _, err := h.f.EndpointSlice("default", "web-abc"); !IsNotFound(err) {
		t.Fatalf("deleted slice: %v", err)
	}
	h.must(DeleteEndpoints{Namespace: "default", Name: "web"})
	if _, err := h.f.Endpoints("default", "web"); !IsNotFound(err) {
		t.Fatalf("deleted endpoints: %v", err)
	}
}

// A Service, its endpoints and their removal reach watchers as changes of
// their own kinds, the removal of all three at the one index of the
// DeleteService.
func TestServicesAndEndpointsAreInTheChangeStream(t *testing.T) {
	h := newHarness(t)
	subs := map[string]*Subscription{}
	for _, kind := range []string{KindService, KindEndpoints, KindEndpointSlice} {
		s, err := h.f.Changes().Subscribe(kind, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		subs[kind] = s
	}
	h.must(createService(service("web", 80)), createService(service("db", 5432)),
		PutEndpoints{Endpoints: endpointsFor("web", "10.244.0.5"), ServiceUID: "uid-web", UID: "e1", Time: t0},
		PutEndpointSlice{Slice: sliceFor("web", "web-1", "10.244.0.5"), ServiceUID: "uid-web", UID: "s1", Time: t0},
		PutEndpointSlice{Slice: sliceFor("db", "db-1", "10.244.0.6"), ServiceUID: "uid-db", UID: "s2", Time: t0},
		PutEndpoints{Endpoints: endpointsFor("web", "10.244.0.5"), ServiceUID: "uid-web", UID: "e1", Time: t0}, // unchanged: no news
		DeleteService{Namespace: "default", Name: "web"})
	want := map[string]string{
		KindService:       "Service default/web created@1, Service default/db created@2, Service default/web removed@7",
		KindEndpoints:     "Endpoints default/web created@3, Endpoints default/web removed@7",
		KindEndpointSlice: "EndpointSlice default/web-1 created@4, EndpointSlice default/db-1 created@5, EndpointSlice default/web-1 removed@7",
	}
	for kind, s := range subs {
		got, _ := received(s)
		if describe(got) != want[kind] {
			t.Errorf("%s changes = %s, want %s", kind, describe(got), want[kind])
		}
		var o struct{ Kind, APIVersion string }
		if err := json.Unmarshal(got[0].Object, &o); err != nil || o.Kind != kind || o.APIVersion != apiVersionOf(kind) {
			t.Errorf("%s object %s", kind, got[0].Object)
		}
	}
	if _, err := h.f.EndpointSlice("default", "db-1"); err != nil {
		t.Errorf("db's slice went with web: %v", err)
	}
}

func TestSnapshotKeepsServicesEndpointsAndTheirAllocations(t *testing.T) {
	h := newHarness(t)
	h.must(createService(nodePortService("web", 80)), createService(withClusterIP(service("dns", 53), "10.96.0.10")),
		PutEndpoints{Endpoints: endpointsFor("web", "10.244.0.5"), ServiceUID: "uid-web", UID: "e1", Time: t0},
		PutEndpointSlice{Slice: sliceFor("web", "web-1", "10.244.0.5"), ServiceUID: "uid-web", UID: "s1", Time: t0})
	restored := snapshotRestored(t, h.f)
	want, _ := json.Marshal(h.f.st)
	got, _ := json.Marshal(restored.st)
	if string(want) != string(got) {
		t.Fatalf("restored state differs:\nwant %s\ngot  %s", want, got)
	}
	svcs, _ := restored.Services(nil)
	eps, _ := restored.ListEndpoints(nil)
	slices, _ := restored.EndpointSlices(func(es *api.EndpointSlice) bool { return es.Labels[api.LabelServiceName] == "web" })
	if len(svcs) != 2 || svcs[0].Name != "dns" || len(eps) != 1 || len(slices) != 1 {
		t.Fatalf("restored %d services, %d endpoints, %d slices", len(svcs), len(eps), len(slices))
	}
	// The restored machine allocates and refuses as the original does:
	// its address and port indexes were rebuilt.
	h2 := &harness{t: t, f: restored, idx: h.idx}
	for _, cmd := range []Command{
		createService(nodePortService("next", 80)),
		createService(withClusterIP(service("clash", 53), "10.96.0.10")),
	} {
		a, errA := h.do(cmd)
		b, errB := h2.do(cmd)
		if !reflect.DeepEqual(a, b) || (errA == nil) != (errB == nil) || (errA != nil && errA.Error() != errB.Error()) {
			t.Fatalf("original and restored disagree on %s: %+v %v / %+v %v", cmd.Type(), a, errA, b, errB)
		}
	}
	if s, _ := restored.Service("default", "next"); s.Spec.ClusterIP != "10.96.1.1" || s.Spec.Ports[0].NodePort != 30001 {
		t.Fatalf("restored machine allocated %+v", s.Spec)
	}
	// The stream of a restored machine starts with the stored objects (at
	// its index now, after the two commands above).
	sub, err := restored.Changes().Subscribe(KindEndpointSlice, 0, true)
	if err != nil || describe(sub.Initial) != "EndpointSlice default/web-1 created@6" {
		t.Fatalf("initial slices %s, %v", describe(sub.Initial), err)
	}
	sub.Close()
}

// Through Raft: every seat allocates the same ClusterIP and node port, and
// a refused Service comes back to the writer naming the field.
func TestServicesReplicateThroughRaft(t *testing.T) {
	c := inmemCluster(t, 3)
	leader := c.Leader()
	res := applyOK(t, leader.Raft, createService(nodePortService("web", 80)))
	applyOK(t, leader.Raft, PutEndpointSlice{Slice: sliceFor("web", "web-1", "10.244.0.5"), ServiceUID: "uid-web", UID: "s1", Time: t0})
	for _, f := range c.Followers(leader) {
		c.WaitApplied(f, res.Index+1)
		svc, err := f.FSM.Service("default", "web")
		if err != nil || svc.Spec.ClusterIP != res.Service.Spec.ClusterIP || svc.Spec.Ports[0].NodePort != res.Service.Spec.Ports[0].NodePort {
			t.Fatalf("%s: %+v, %v; leader allocated %+v", f.ID, svc, err, res.Service.Spec)
		}
		if _, err := f.FSM.EndpointSlice("default", "web-1"); err != nil {
			t.Fatalf("%s: slice %v", f.ID, err)
		}
	}
	clash := createService(withClusterIP(service("clash", 80), res.Service.Spec.ClusterIP))
	_, err := leader.Raft.Apply(ctxFor(t, 5*time.Second), clash)
	fieldError(t, err, "spec.clusterIP", res.Service.Spec.ClusterIP, "already allocated to Service default/web")
}

// A number shared over TCP and UDP is one node port, but never one a port
// of the same protocol holds already (the fuzzer's first find).
func TestSharedNodePortIsTakenOnlyWhenFreeForTheProtocol(t *testing.T) {
	h := newHarness(t)
	svc := nodePortService("mixed", 81, 80, 81)
	svc.Spec.Ports[0].Protocol, svc.Spec.Ports[0].NodePort = api.ProtocolUDP, 30001
	svc.Spec.Ports[1].NodePort = 30001
	res, err := h.do(createService(svc))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Service.Spec.Ports[2].NodePort; got != 30000 {
		t.Fatalf("81/TCP got node port %d, want 30000 (30001/TCP is 80/TCP's)", got)
	}
}
