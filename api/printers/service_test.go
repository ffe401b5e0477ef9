package printers

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api"
)

func TestServiceRowShowsTypeAddressesPortsAndSelectorLikeKubectl(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	meta := api.ObjectMeta{Name: "web", CreationTimestamp: metav1.NewTime(now.Add(-90 * time.Second))}
	for _, tc := range []struct {
		name string
		spec api.ServiceSpec
		want []any
	}{
		{"cluster IP", api.ServiceSpec{Type: api.ServiceTypeClusterIP, ClusterIP: "10.96.0.20", ClusterIPs: []string{"10.96.0.20"},
			Ports: []api.ServicePort{{Port: 80, Protocol: api.ProtocolTCP}}, Selector: map[string]string{"app": "web", "tier": "front"}},
			[]any{"web", "ClusterIP", "10.96.0.20", "<none>", "80/TCP", "90s", "app=web,tier=front"}},
		{"node ports and external IPs", api.ServiceSpec{Type: api.ServiceTypeNodePort, ClusterIPs: []string{"10.96.0.21"}, ExternalIPs: []string{"192.0.2.1", "192.0.2.2"},
			Ports: []api.ServicePort{{Port: 80, NodePort: 30080, Protocol: api.ProtocolTCP}, {Port: 53, NodePort: 30053, Protocol: api.ProtocolUDP}}},
			[]any{"web", "NodePort", "10.96.0.21", "192.0.2.1,192.0.2.2", "80:30080/TCP,53:30053/UDP", "90s", "<none>"}},
		{"headless without ports", api.ServiceSpec{Type: api.ServiceTypeClusterIP, ClusterIP: "None", ClusterIPs: []string{"None"}},
			[]any{"web", "ClusterIP", "None", "<none>", "<none>", "90s", "<none>"}},
	} {
		if got := Service(&api.Service{ObjectMeta: meta, Spec: tc.spec}, now); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: row %q, want %q", tc.name, got, tc.want)
		}
	}
	if n := len(ServiceColumns()); n != len(Service(&api.Service{}, now)) || ServiceColumns()[n-1].Priority != 1 {
		t.Errorf("%d columns, the selector only wide: %+v", n, ServiceColumns())
	}
}

func TestEndpointsCellListsReadyAddressesPerPortAndCountsTheRest(t *testing.T) {
	addrs := func(ips ...string) []api.EndpointAddress {
		var out []api.EndpointAddress
		for _, ip := range ips {
			out = append(out, api.EndpointAddress{IP: ip})
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		subsets []api.EndpointSubset
		want    string
	}{
		{"no subsets", nil, "<none>"},
		{"one pod", []api.EndpointSubset{{Addresses: addrs("10.244.1.5"), Ports: []api.EndpointPort{{Port: 8080}}}}, "10.244.1.5:8080"},
		{"only not ready", []api.EndpointSubset{{NotReadyAddresses: addrs("10.244.1.5"), Ports: []api.EndpointPort{{Port: 8080}}}}, ""},
		{"headless without ports", []api.EndpointSubset{{Addresses: addrs("10.244.1.5", "10.244.2.5")}}, "10.244.1.5,10.244.2.5"},
		{"more than three", []api.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2", "10.0.0.3"), Ports: []api.EndpointPort{{Name: "a", Port: 1}, {Name: "b", Port: 2}}}},
			"10.0.0.1:1,10.0.0.2:1,10.0.0.3:1 + 3 more..."},
	} {
		if got := EndpointsCell(&api.Endpoints{Subsets: tc.subsets}); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestEndpointSliceRowShowsPortsAndAddresses(t *testing.T) {
	now := time.Now()
	port, name := int32(8080), "http"
	es := &api.EndpointSlice{ObjectMeta: api.ObjectMeta{Name: "web-abc"}, AddressType: api.AddressTypeIPv4,
		Ports:     []api.SlicePort{{Port: &port, Name: &name}, {Name: &name}, {}},
		Endpoints: []api.SliceEndpoint{{Addresses: []string{"10.0.0.1"}}, {Addresses: []string{"10.0.0.2"}}, {Addresses: []string{"10.0.0.3"}}, {Addresses: []string{"10.0.0.4"}}}}
	want := []any{"web-abc", "IPv4", "8080,http,*", "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...", "<unknown>"}
	if got := EndpointSlice(es, now); !reflect.DeepEqual(got, want) {
		t.Errorf("row %q, want %q", got, want)
	}
	empty := EndpointSlice(&api.EndpointSlice{AddressType: api.AddressTypeIPv4}, now)
	if empty[2] != "<unset>" || empty[3] != "<unset>" {
		t.Errorf("empty slice row %q: want <unset> ports and endpoints", empty)
	}
}
