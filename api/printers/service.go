package printers

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// ServiceColumns are kubectl's NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S)
// AGE, and SELECTOR with -o wide.
func ServiceColumns() []Column {
	return []Column{
		{"Name", "string", nameDesc, 0},
		{"Type", "string", "type determines how the Service is exposed.", 0},
		{"Cluster-IP", "string", "clusterIP is the IP address of the service and is usually assigned randomly.", 0},
		{"External-IP", "string", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.", 0},
		{"Port(s)", "string", "The list of ports that are exposed by this service.", 0},
		{"Age", "string", ageDesc, 0},
		{"Selector", "string", "Route service traffic to pods with label keys and values matching this selector.", 1},
	}
}

// Service is the row of s under ServiceColumns: its first cluster IP
// (None when headless), its external IPs, its ports as
// port[:nodePort]/protocol.
func Service(s *api.Service, now time.Time) []any {
	clusterIP := "<none>"
	if len(s.Spec.ClusterIPs) > 0 {
		clusterIP = s.Spec.ClusterIPs[0]
	} else if s.Spec.ClusterIP != "" {
		clusterIP = s.Spec.ClusterIP
	}
	external := "<none>"
	if len(s.Spec.ExternalIPs) > 0 {
		external = strings.Join(s.Spec.ExternalIPs, ",")
	}
	return []any{s.ObjectMeta.Name, string(s.Spec.Type), clusterIP, external, OrNone(ServicePorts(s.Spec.Ports)),
		Age(s.ObjectMeta.CreationTimestamp.Time, now), FormatLabels(s.Spec.Selector)}
}

// ServicePorts is kubectl's PORT(S) cell: 80/TCP, or 80:30080/TCP with a
// node port.
func ServicePorts(ports []api.ServicePort) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		if p.NodePort > 0 {
			parts[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		} else {
			parts[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		}
	}
	return strings.Join(parts, ",")
}

// EndpointsColumns are kubectl's NAME ENDPOINTS AGE.
func EndpointsColumns() []Column {
	return []Column{
		{"Name", "string", nameDesc, 0},
		{"Endpoints", "string", "The set of all endpoints is the union of all subsets.", 0},
		{"Age", "string", ageDesc, 0},
	}
}

// Endpoints is the row of e under EndpointsColumns.
func Endpoints(e *api.Endpoints, now time.Time) []any {
	return []any{e.ObjectMeta.Name, EndpointsCell(e), Age(e.ObjectMeta.CreationTimestamp.Time, now)}
}

// moreAfter is how many addresses kubectl lists before "+ N more...".
const moreAfter = 3

// EndpointsCell is kubectl's ENDPOINTS cell: the ready addresses as
// ip:port for every port (the ip alone for a subset without ports), the
// first three and "+ N more...", "<none>" when there are no subsets. Not
// ready addresses are not shown, as kubectl does not show them.
func EndpointsCell(e *api.Endpoints) string {
	if len(e.Subsets) == 0 {
		return "<none>"
	}
	var shown []string
	total := 0
	add := func(s string) {
		total++
		if len(shown) < moreAfter {
			shown = append(shown, s)
		}
	}
	for _, ss := range e.Subsets {
		if len(ss.Ports) == 0 {
			for _, a := range ss.Addresses {
				add(a.IP)
			}
			continue
		}
		for _, p := range ss.Ports {
			for _, a := range ss.Addresses {
				add(net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
		}
	}
	return withMore(shown, total, "")
}

// withMore joins shown and says how many of total it left out; empty is
// what an empty list reads as.
func withMore(shown []string, total int, empty string) string {
	out := strings.Join(shown, ",")
	if total > len(shown) {
		return fmt.Sprintf("%s + %d more...", out, total-len(shown))
	}
	if out == "" {
		return empty
	}
	return out
}

// EndpointSliceColumns are kubectl's NAME ADDRESSTYPE PORTS ENDPOINTS AGE.
func EndpointSliceColumns() []Column {
	return []Column{
		{"Name", "string", nameDesc, 0},
		{"AddressType", "string", "addressType specifies the type of address carried by this EndpointSlice.", 0},
		{"Ports", "string", "ports specifies the list of network ports exposed by each endpoint in this slice.", 0},
		{"Endpoints", "string", "endpoints is a list of unique endpoints in this slice.", 0},
		{"Age", "string", ageDesc, 0},
	}
}

// EndpointSlice is the row of es under EndpointSliceColumns: the first
// three ports and addresses, "<unset>" for none, as kubectl shows them.
func EndpointSlice(es *api.EndpointSlice, now time.Time) []any {
	var ports []string
	for _, p := range es.Ports {
		switch {
		case p.Port != nil:
			ports = append(ports, strconv.Itoa(int(*p.Port)))
		case p.Name != nil:
			ports = append(ports, *p.Name)
		default:
			ports = append(ports, "*")
		}
	}
	var addrs []string
	for _, ep := range es.Endpoints {
		addrs = append(addrs, ep.Addresses...)
	}
	first := func(s []string) []string { return s[:min(len(s), moreAfter)] }
	return []any{es.ObjectMeta.Name, string(es.AddressType), withMore(first(ports), len(ports), "<unset>"),
		withMore(first(addrs), len(addrs), "<unset>"), Age(es.ObjectMeta.CreationTimestamp.Time, now)}
}
