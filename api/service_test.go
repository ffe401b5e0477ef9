package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// What `kubectl get svc web -o yaml` shows of a Service Kubernetes made from
// the minimal manifest below (minus the clusterIP it allocated).
const kubectlService = `apiVersion: v1
kind: Service
metadata:
  creationTimestamp: "2026-01-02T03:04:05Z"
  labels: {app: web}
  name: web
  namespace: default
  resourceVersion: "42"
  uid: 0b5c2a8e-2f7e-4a55-9c1e-3d1f0e6f1a10
spec:
  clusterIP: 10.96.12.7
  clusterIPs: [10.96.12.7]
  internalTrafficPolicy: Cluster
  ipFamilies: [IPv4]
  ipFamilyPolicy: SingleStack
  ports:
  - name: http
    nodePort: 30080
    port: 80
    protocol: TCP
    targetPort: 8080
  - name: dns
    nodePort: 30053
    port: 53
    protocol: UDP
    targetPort: dns
  selector: {app: web}
  sessionAffinity: ClientIP
  sessionAffinityConfig:
    clientIP: {timeoutSeconds: 10800}
  externalTrafficPolicy: Cluster
  type: NodePort
status:
  loadBalancer: {}
`

const minimalService = `apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  type: NodePort
  selector: {app: web}
  sessionAffinity: ClientIP
  ports:
  - {name: http, port: 80, targetPort: 8080}
  - {name: dns, port: 53, protocol: UDP, targetPort: dns}
`

func decodeService(t *testing.T, doc string) *Service {
	t.Helper()
	objs, err := Decode(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return objs[0].(*Service)
}

// A minimal manifest is defaulted to what Kubernetes stores, and what
// kubectl reads back of a stored Service decodes again unchanged: the
// defaults are Kubernetes' own, so `kubectl get -o yaml | kubectl apply`
// round-trips.
func TestServiceDefaultsAreKubernetesSoKubectlOutputRoundTrips(t *testing.T) {
	full := decodeService(t, kubectlService)
	min := decodeService(t, minimalService)
	want := full.Spec.DeepCopy()
	want.ClusterIP, want.ClusterIPs = "", nil
	for i := range want.Ports {
		want.Ports[i].NodePort = 0
	}
	if !reflect.DeepEqual(&min.Spec, want) {
		a, _ := json.Marshal(min.Spec)
		b, _ := json.Marshal(want)
		t.Fatalf("defaulted minimal spec\n%s\nwant (Kubernetes' defaults)\n%s", a, b)
	}
	b, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	var again Service
	if err := DecodeObject(b, &again); err != nil {
		t.Fatalf("stored Service refused on the way back: %v", err)
	}
	if !reflect.DeepEqual(&again, full) {
		t.Fatalf("round trip changed the Service:\n%+v\n%+v", again.Spec, full.Spec)
	}
}

func TestHeadlessServiceDefaults(t *testing.T) {
	s := decodeService(t, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"db"},"spec":{"clusterIP":"None","selector":{"app":"db"}}}`)
	if s.Spec.ClusterIPs[0] != "None" || *s.Spec.IPFamilyPolicy != IPFamilyPolicySingle || s.Spec.Type != ServiceTypeClusterIP || !IsHeadless(s) {
		t.Fatalf("headless defaults: %+v", s.Spec)
	}
	// Kubernetes' default for a headless Service without a selector.
	s = decodeService(t, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"ext"},"spec":{"clusterIP":"None"}}`)
	if *s.Spec.IPFamilyPolicy != IPFamilyPolicyRequire || !reflect.DeepEqual(s.Spec.IPFamilies, []corev1.IPFamily{IPv4Family}) {
		t.Fatalf("selectorless headless defaults: %+v", s.Spec)
	}
}

func TestServiceFieldsShoalDoesNotHaveAreRefusedByName(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{`"loadBalancerIP":"1.2.3.4"`, "spec.loadBalancerIP: not supported by shoal"},
		{`"publishNotReadyAddresses":true`, "spec.publishNotReadyAddresses: not supported by shoal"},
		{`"externalName":"x.example"`, "spec.externalName: not supported by shoal"},
		{`"trafficDistribution":"PreferClose"`, "spec.trafficDistribution: not supported by shoal"},
		{`"ports":[{"port":80,"appProtocol":"http"}]`, "spec.ports[0].appProtocol: not supported by shoal"},
		{`"type":"LoadBalancer"`, `spec.type: invalid value "LoadBalancer": not supported by shoal`},
		{`"type":"ExternalName"`, `spec.type: invalid value "ExternalName": not supported by shoal`},
		{`"ports":[{"port":80,"protocol":"SCTP"}]`, `spec.ports[0].protocol: invalid value "SCTP": not supported by shoal`},
		{`"internalTrafficPolicy":"Local"`, `spec.internalTrafficPolicy: invalid value "Local": not supported by shoal`},
		{`"ipFamilies":["IPv6"]`, `spec.ipFamilies[0]: invalid value "IPv6": not supported by shoal`},
	} {
		doc := `{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"ports":[{"port":80}],` + c.spec + `}}`
		if strings.Count(doc, `"ports"`) > 1 {
			doc = `{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{` + c.spec + `}}`
		}
		err := DecodeObject([]byte(doc), &Service{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.spec, err, c.want)
		}
	}
	err := DecodeObject([]byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"ports":[{"port":80}]},"status":{"loadBalancer":{"ingress":[{"ip":"1.2.3.4"}]}}}`), &Service{})
	if err == nil || !strings.Contains(err.Error(), "status.loadBalancer.ingress: not supported by shoal") {
		t.Errorf("status ingress: %v", err)
	}
}

// validService is a defaulted NodePort Service every case below breaks in
// one way.
func validService() *Service {
	s := &Service{ObjectMeta: ObjectMeta{Name: "web"}, Spec: ServiceSpec{
		Type:     ServiceTypeNodePort,
		Selector: map[string]string{"app": "web"},
		Ports: []ServicePort{
			{Name: "http", Port: 80, TargetPort: FromString("http")},
			{Name: "metrics", Port: 9090, NodePort: 30090},
		},
	}}
	defaultService(s)
	return s
}

func TestValidateServiceNamesTheField(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	for _, c := range []struct {
		name   string
		change func(*Service)
		paths  []string
	}{
		{"name not a DNS-1035 label", func(s *Service) { s.Name = "9web" }, []string{"metadata.name"}},
		{"no ports", func(s *Service) { s.Spec.Ports = nil }, []string{"spec.ports"}},
		{"port 0", func(s *Service) { s.Spec.Ports[0].Port = 0 }, []string{"spec.ports[0].port"}},
		{"port too big", func(s *Service) { s.Spec.Ports[1].Port = 65536 }, []string{"spec.ports[1].port"}},
		{"unnamed of two", func(s *Service) { s.Spec.Ports[1].Name = "" }, []string{"spec.ports[1].name"}},
		{"duplicate name", func(s *Service) { s.Spec.Ports[1].Name = "http" }, []string{"spec.ports[1].name"}},
		{"bad name", func(s *Service) { s.Spec.Ports[0].Name = "Http" }, []string{"spec.ports[0].name"}},
		{"duplicate port", func(s *Service) { s.Spec.Ports[1].Port = 80 }, []string{"spec.ports[1].port"}},
		{"bad protocol", func(s *Service) { s.Spec.Ports[0].Protocol = "ICMP" }, []string{"spec.ports[0].protocol"}},
		{"target port number", func(s *Service) { s.Spec.Ports[1].TargetPort = FromInt(70000) }, []string{"spec.ports[1].targetPort"}},
		{"target port name", func(s *Service) { s.Spec.Ports[0].TargetPort = FromString("sixteen-letters1") }, []string{"spec.ports[0].targetPort"}},
		{"node port low", func(s *Service) { s.Spec.Ports[1].NodePort = 29999 }, []string{"spec.ports[1].nodePort"}},
		{"node port high", func(s *Service) { s.Spec.Ports[1].NodePort = 32768 }, []string{"spec.ports[1].nodePort"}},
		{"duplicate node port", func(s *Service) { s.Spec.Ports[0].NodePort = 30090 }, []string{"spec.ports[1].nodePort"}},
		{"node port on ClusterIP", func(s *Service) { s.Spec.Type, s.Spec.ExternalTrafficPolicy = ServiceTypeClusterIP, "" }, []string{"spec.ports[1].nodePort"}},
		{"external policy on ClusterIP", func(s *Service) { s.Spec.Type, s.Spec.Ports[1].NodePort = ServiceTypeClusterIP, 0 }, []string{"spec.externalTrafficPolicy"}},
		{"external policy Local", func(s *Service) { s.Spec.ExternalTrafficPolicy = "Local" }, []string{"spec.externalTrafficPolicy"}},
		{"unknown type", func(s *Service) { s.Spec.Type = "Fancy" }, []string{"spec.type"}},
		{"bad cluster IP", func(s *Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.300", []string{"10.96.0.300"} }, []string{"spec.clusterIP"}},
		{"IPv6 cluster IP", func(s *Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "fd00::1", []string{"fd00::1"} }, []string{"spec.clusterIP"}},
		{"two cluster IPs", func(s *Service) {
			s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.5", []string{"10.96.0.5", "10.96.0.6"}
		}, []string{"spec.clusterIPs"}},
		{"cluster IPs disagree", func(s *Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.5", []string{"10.96.0.6"} }, []string{"spec.clusterIPs[0]"}},
		{"headless NodePort", func(s *Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = ClusterIPNone, []string{ClusterIPNone} }, []string{"spec.clusterIP"}},
		{"affinity", func(s *Service) { s.Spec.SessionAffinity = "Sticky" }, []string{"spec.sessionAffinity"}},
		{"affinity config without ClientIP", func(s *Service) {
			s.Spec.SessionAffinityConfig = &SessionAffinityConfig{ClientIP: &ClientIPConfig{TimeoutSeconds: i32(5)}}
		}, []string{"spec.sessionAffinityConfig"}},
		{"affinity timeout", func(s *Service) {
			s.Spec.SessionAffinity = ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &SessionAffinityConfig{ClientIP: &ClientIPConfig{TimeoutSeconds: i32(86401)}}
		}, []string{"spec.sessionAffinityConfig.clientIP.timeoutSeconds"}},
		{"external IP loopback", func(s *Service) { s.Spec.ExternalIPs = []string{"192.168.1.10", "127.0.0.1"} }, []string{"spec.externalIPs[1]"}},
		{"external IP not an IP", func(s *Service) { s.Spec.ExternalIPs = []string{"None"} }, []string{"spec.externalIPs[0]"}},
		{"selector value", func(s *Service) { s.Spec.Selector = map[string]string{"app": "no spaces"} }, []string{"spec.selector.app"}},
		{"dual stack required", func(s *Service) { p := IPFamilyPolicyRequire; s.Spec.IPFamilyPolicy = &p }, []string{"spec.ipFamilyPolicy"}},
		{"two families", func(s *Service) { s.Spec.IPFamilies = []corev1.IPFamily{IPv4Family, IPv4Family} }, []string{"spec.ipFamilies[1]"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := validService()
			if err := ValidateService(s); err != nil {
				t.Fatalf("the valid Service is refused: %v", err)
			}
			c.change(s)
			err := ValidateService(s)
			var got []string
			for _, fe := range AsFieldErrors(err) {
				got = append(got, fe.Path)
			}
			if !reflect.DeepEqual(got, c.paths) {
				t.Fatalf("error paths %q (%v), want %q", got, err, c.paths)
			}
		})
	}
}

func TestHeadlessServiceMayHaveNoPorts(t *testing.T) {
	s := &Service{ObjectMeta: ObjectMeta{Name: "db"}, Spec: ServiceSpec{ClusterIP: ClusterIPNone, Selector: map[string]string{"app": "db"}}}
	defaultService(s)
	if err := ValidateService(s); err != nil {
		t.Fatal(err)
	}
}

func TestServiceUpdateKeepsAllocatedValuesAndRefusesANewClusterIP(t *testing.T) {
	stored := validService()
	stored.Spec.ClusterIP, stored.Spec.ClusterIPs = "10.96.1.2", []string{"10.96.1.2"}
	stored.Spec.Ports[0].NodePort = 31000

	// The same manifest applied again: nothing allocated is asked to change.
	next := validService()
	next.Spec.Ports[1].NodePort = 0
	PrepareServiceUpdate(stored, next)
	if next.Spec.ClusterIP != "10.96.1.2" || next.Spec.ClusterIPs[0] != "10.96.1.2" || next.Spec.Ports[0].NodePort != 31000 || next.Spec.Ports[1].NodePort != 30090 {
		t.Fatalf("allocated values not carried over: %+v", next.Spec)
	}
	if err := ValidateServiceUpdate(stored, next); err != nil {
		t.Fatal(err)
	}

	// A node port another port of the new spec claims is not carried over.
	next = validService()
	next.Spec.Ports[1].NodePort = 31000
	PrepareServiceUpdate(stored, next)
	if next.Spec.Ports[0].NodePort != 0 {
		t.Fatalf("node port 31000 given twice: %+v", next.Spec.Ports)
	}

	// NodePort -> ClusterIP with the stored node ports left in (kubectl
	// edit): they and the external policy are dropped.
	next = stored.DeepCopy()
	next.Spec.Type = ServiceTypeClusterIP
	PrepareServiceUpdate(stored, next)
	if next.Spec.Ports[0].NodePort != 0 || next.Spec.Ports[1].NodePort != 0 || next.Spec.ExternalTrafficPolicy != "" {
		t.Fatalf("node ports kept on a ClusterIP Service: %+v", next.Spec)
	}
	if err := ValidateService(next); err != nil {
		t.Fatal(err)
	}

	next = stored.DeepCopy()
	next.Spec.ClusterIP, next.Spec.ClusterIPs = "10.96.1.3", []string{"10.96.1.3"}
	PrepareServiceUpdate(stored, next)
	fes := AsFieldErrors(ValidateServiceUpdate(stored, next))
	if len(fes) != 1 || fes[0].Path != "spec.clusterIP" || fes[0].Value != "10.96.1.3" || !strings.Contains(fes[0].Detail, "immutable") {
		t.Fatalf("changed clusterIP: %v", fes)
	}
	next = stored.DeepCopy()
	next.Spec.Type, next.Spec.ClusterIP, next.Spec.ClusterIPs = ServiceTypeClusterIP, ClusterIPNone, []string{ClusterIPNone}
	PrepareServiceUpdate(stored, next)
	if fes := AsFieldErrors(ValidateServiceUpdate(stored, next)); len(fes) != 1 || fes[0].Path != "spec.clusterIP" {
		t.Fatalf("made headless: %v", fes)
	}
}

func TestEndpointsAndSlicesDecodeAndValidate(t *testing.T) {
	objs, err := Decode(strings.NewReader(`apiVersion: v1
kind: Endpoints
metadata: {name: web}
subsets:
- addresses: [{ip: 10.244.1.5, nodeName: n1, targetRef: {kind: Pod, name: web-1, namespace: default}}]
  notReadyAddresses: [{ip: 10.244.2.5}]
  ports: [{name: http, port: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abcde
  labels: {kubernetes.io/service-name: web, endpointslice.kubernetes.io/managed-by: endpointslice.shoal.dev}
addressType: IPv4
endpoints:
- addresses: [10.244.1.5]
  conditions: {ready: true, serving: true, terminating: false}
  nodeName: n1
  targetRef: {kind: Pod, name: web-1, namespace: default}
ports: [{name: http, port: 8080}]
`))
	if err != nil {
		t.Fatal(err)
	}
	ep := objs[0].(*Endpoints)
	es := objs[1].(*EndpointSlice)
	if ep.Namespace != "default" || ep.Subsets[0].Ports[0].Protocol != ProtocolTCP {
		t.Errorf("endpoints defaults: %+v", ep)
	}
	if es.Namespace != "default" || *es.Ports[0].Protocol != ProtocolTCP || es.APIVersion != DiscoveryV1 {
		t.Errorf("slice defaults: %+v", es)
	}
	err = DecodeObject([]byte(`{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"s"},"addressType":"IPv4","endpoints":[{"addresses":["10.0.0.1"],"hints":{"forZones":[{"name":"a"}]}}],"ports":[]}`), &EndpointSlice{})
	if err == nil || !strings.Contains(err.Error(), "endpoints[0].hints: not supported by shoal") {
		t.Errorf("hints: %v", err)
	}
}

func TestValidateEndpointSliceNamesTheField(t *testing.T) {
	port := func(v int32) *int32 { return &v }
	str := func(v string) *string { return &v }
	for _, c := range []struct {
		name   string
		change func(*EndpointSlice)
		paths  []string
	}{
		{"no service label", func(es *EndpointSlice) { es.Labels = nil }, []string{"metadata.labels[kubernetes.io/service-name]"}},
		{"IPv6", func(es *EndpointSlice) { es.AddressType = "IPv6" }, []string{"addressType"}},
		{"no address", func(es *EndpointSlice) { es.Endpoints[0].Addresses = nil }, []string{"endpoints[0].addresses"}},
		{"bad address", func(es *EndpointSlice) { es.Endpoints[0].Addresses = []string{"10.0.0.256"} }, []string{"endpoints[0].addresses[0]"}},
		{"bad node", func(es *EndpointSlice) { es.Endpoints[0].NodeName = str("N_1") }, []string{"endpoints[0].nodeName"}},
		{"port range", func(es *EndpointSlice) { es.Ports[0].Port = port(0) }, []string{"ports[0].port"}},
		{"duplicate name", func(es *EndpointSlice) { es.Ports = append(es.Ports, SlicePort{Name: str("http"), Port: port(81)}) }, []string{"ports[1].name"}},
		{"two unnamed", func(es *EndpointSlice) {
			es.Ports = []SlicePort{{Port: port(80)}, {Port: port(81)}}
		}, []string{"ports[1].name"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			es := &EndpointSlice{ObjectMeta: ObjectMeta{Name: "web-1", Labels: map[string]string{LabelServiceName: "web"}},
				AddressType: AddressTypeIPv4,
				Endpoints:   []SliceEndpoint{{Addresses: []string{"10.244.0.5"}}},
				Ports:       []SlicePort{{Name: str("http"), Port: port(8080)}}}
			defaultEndpointSlice(es)
			if err := ValidateEndpointSlice(es); err != nil {
				t.Fatalf("the valid slice is refused: %v", err)
			}
			c.change(es)
			defaultEndpointSlice(es)
			var got []string
			for _, fe := range AsFieldErrors(ValidateEndpointSlice(es)) {
				got = append(got, fe.Path)
			}
			if !reflect.DeepEqual(got, c.paths) {
				t.Fatalf("error paths %q, want %q", got, c.paths)
			}
		})
	}
}

func TestValidateEndpointsNamesTheField(t *testing.T) {
	base := func() *Endpoints {
		e := &Endpoints{ObjectMeta: ObjectMeta{Name: "web"}, Subsets: []EndpointSubset{{
			Addresses: []EndpointAddress{{IP: "10.244.0.5"}},
			Ports:     []EndpointPort{{Name: "http", Port: 8080}, {Name: "metrics", Port: 9090}},
		}}}
		defaultEndpoints(e)
		return e
	}
	for _, c := range []struct {
		name   string
		change func(*Endpoints)
		paths  []string
	}{
		{"bad ip", func(e *Endpoints) { e.Subsets[0].Addresses[0].IP = "0.0.0.0" }, []string{"subsets[0].addresses[0].ip"}},
		{"bad not ready ip", func(e *Endpoints) {
			e.Subsets[0].NotReadyAddresses = []EndpointAddress{{IP: "x"}}
		}, []string{"subsets[0].notReadyAddresses[0].ip"}},
		{"unnamed of two", func(e *Endpoints) { e.Subsets[0].Ports[1].Name = "" }, []string{"subsets[0].ports[1].name"}},
		{"port", func(e *Endpoints) { e.Subsets[0].Ports[0].Port = -1 }, []string{"subsets[0].ports[0].port"}},
		{"protocol", func(e *Endpoints) { e.Subsets[0].Ports[0].Protocol = "SCTP" }, []string{"subsets[0].ports[0].protocol"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := base()
			if err := ValidateEndpoints(e); err != nil {
				t.Fatalf("valid endpoints refused: %v", err)
			}
			c.change(e)
			var got []string
			for _, fe := range AsFieldErrors(ValidateEndpoints(e)) {
				got = append(got, fe.Path)
			}
			if !reflect.DeepEqual(got, c.paths) {
				t.Fatalf("error paths %q, want %q", got, c.paths)
			}
		})
	}
}

func TestOnlyEndpointKindsAreControllerManaged(t *testing.T) {
	for _, k := range []string{KindEndpoints, KindEndpointSlice} {
		fes := AsFieldErrors(ControllerManaged(k))
		if len(fes) != 1 || fes[0].Path != "kind" || !strings.Contains(fes[0].Detail, "endpoints controller") {
			t.Errorf("%s: %v", k, fes)
		}
	}
	for _, k := range []string{KindService, KindPod, KindSecret} {
		if err := ControllerManaged(k); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
}
