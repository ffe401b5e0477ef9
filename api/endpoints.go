package api

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Endpoints (core/v1, for older clients) and EndpointSlices
// (discovery.k8s.io/v1) list the addresses of the ready pods behind a
// Service. shoal's endpoints controller on the leader writes both from the
// Service's selector and its pods' readiness; users read and watch them
// but do not write them (ControllerManaged): hand-kept endpoints for a
// Service without a selector are not supported by shoal.

// Labels an EndpointSlice carries, as Kubernetes' controller sets them.
const (
	// LabelServiceName names the Service a slice belongs to.
	LabelServiceName = discoveryv1.LabelServiceName
	// LabelManagedBy names the controller that keeps a slice.
	LabelManagedBy = discoveryv1.LabelManagedBy
	// EndpointSliceController is shoal's value of LabelManagedBy.
	EndpointSliceController = "endpointslice.shoal.dev"
	// AddressTypeIPv4 is the one address type shoal's slices hold.
	AddressTypeIPv4 = discoveryv1.AddressTypeIPv4
	// MaxEndpointsPerSlice and MaxPortsPerSlice are Kubernetes' limits.
	MaxEndpointsPerSlice = 1000
	MaxPortsPerSlice     = 100
	// maxAddressesPerEndpoint is Kubernetes' limit on one endpoint.
	maxAddressesPerEndpoint = 100
)

// ControllerManaged returns why a user may not write an object of kind
// (nil when they may): Endpoints and EndpointSlices are the endpoints
// controller's. The API server answers a create, update, patch or delete
// of them with this error.
func ControllerManaged(kind string) error {
	switch kind {
	case KindEndpoints, KindEndpointSlice:
		return &FieldError{Path: "kind", Value: kind,
			Detail: "written only by shoal's endpoints controller, from each Service's selector and its pods' readiness: hand-kept endpoints are not supported by shoal"}
	}
	return nil
}

func defaultEndpoints(e *Endpoints) {
	e.APIVersion, e.Kind = V1, KindEndpoints
	if e.Namespace == "" {
		e.Namespace = DefaultNamespace
	}
	for i := range e.Subsets {
		for j := range e.Subsets[i].Ports {
			if e.Subsets[i].Ports[j].Protocol == "" {
				e.Subsets[i].Ports[j].Protocol = ProtocolTCP
			}
		}
	}
}

// ValidateEndpoints checks a defaulted Endpoints object; it is named after
// its Service.
func ValidateEndpoints(e *Endpoints) error {
	var errs FieldErrors
	errs = append(errs, validateDNS1035Label("metadata.name", e.Name)...)
	errs = append(errs, validateDNSLabel("metadata.namespace", e.Namespace)...)
	errs = append(errs, validateLabels("metadata.labels", e.Labels)...)
	for i, ss := range e.Subsets {
		path := fmt.Sprintf("subsets[%d]", i)
		for j, a := range ss.Addresses {
			errs = append(errs, validateEndpointAddress(fmt.Sprintf("%s.addresses[%d]", path, j), a)...)
		}
		for j, a := range ss.NotReadyAddresses {
			errs = append(errs, validateEndpointAddress(fmt.Sprintf("%s.notReadyAddresses[%d]", path, j), a)...)
		}
		names := map[string]bool{}
		for j, p := range ss.Ports {
			ppath := fmt.Sprintf("%s.ports[%d]", path, j)
			errs = append(errs, validateEndpointPort(ppath, p.Name, len(ss.Ports), names, p.Protocol, &p.Port)...)
		}
	}
	return errs.orNil()
}

func validateEndpointAddress(path string, a corev1.EndpointAddress) FieldErrors {
	var errs FieldErrors
	if msg := nonSpecialIPv4(a.IP); msg != "" {
		errs = append(errs, &FieldError{Path: path + ".ip", Value: a.IP, Detail: msg})
	}
	if a.Hostname != "" {
		errs = append(errs, validateDNSLabel(path+".hostname", a.Hostname)...)
	}
	if a.NodeName != nil {
		errs = append(errs, validateName(path+".nodeName", *a.NodeName)...)
	}
	return errs
}

// validateEndpointPort checks one port of an Endpoints subset or a slice:
// a name (required when there are several, unique), TCP or UDP, and a
// number (nil only in a slice, where it means every port).
func validateEndpointPort(path, name string, count int, names map[string]bool, proto Protocol, port *int32) FieldErrors {
	var errs FieldErrors
	switch {
	case name == "" && count > 1:
		errs = append(errs, &FieldError{Path: path + ".name", Detail: "required when there is more than one port"})
	case name != "":
		errs = append(errs, validateDNSLabel(path+".name", name)...)
		if names[name] {
			errs = append(errs, &FieldError{Path: path + ".name", Value: name, Detail: "duplicate port name"})
		}
		names[name] = true
	}
	if proto != ProtocolTCP && proto != ProtocolUDP {
		errs = append(errs, &FieldError{Path: path + ".protocol", Value: string(proto), Detail: "must be TCP or UDP"})
	}
	if port != nil && (*port < 1 || *port > 65535) {
		errs = append(errs, &FieldError{Path: path + ".port", Value: fmt.Sprint(*port), Detail: "must be between 1 and 65535"})
	}
	return errs
}

func defaultEndpointSlice(es *EndpointSlice) {
	es.APIVersion, es.Kind = DiscoveryV1, KindEndpointSlice
	if es.Namespace == "" {
		es.Namespace = DefaultNamespace
	}
	for i := range es.Ports {
		p := &es.Ports[i]
		if p.Name == nil {
			empty := ""
			p.Name = &empty
		}
		if p.Protocol == nil {
			tcp := ProtocolTCP
			p.Protocol = &tcp
		}
	}
}

// ValidateEndpointSlice checks a defaulted EndpointSlice; it names its
// Service by the kubernetes.io/service-name label.
func ValidateEndpointSlice(es *EndpointSlice) error {
	var errs FieldErrors
	errs = append(errs, validateName("metadata.name", es.Name)...)
	errs = append(errs, validateDNSLabel("metadata.namespace", es.Namespace)...)
	errs = append(errs, validateLabels("metadata.labels", es.Labels)...)
	if svc := es.Labels[LabelServiceName]; svc == "" {
		errs = append(errs, &FieldError{Path: "metadata.labels[" + LabelServiceName + "]", Detail: "required: the name of the Service the slice belongs to"})
	} else {
		errs = append(errs, validateDNS1035Label("metadata.labels["+LabelServiceName+"]", svc)...)
	}
	switch es.AddressType {
	case AddressTypeIPv4:
	case discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN:
		errs = append(errs, &FieldError{Path: "addressType", Value: string(es.AddressType), Detail: "not supported by shoal (supported: IPv4)"})
	default:
		errs = append(errs, &FieldError{Path: "addressType", Value: string(es.AddressType), Detail: "must be IPv4"})
	}
	if len(es.Endpoints) > MaxEndpointsPerSlice {
		errs = append(errs, &FieldError{Path: "endpoints", Value: fmt.Sprint(len(es.Endpoints)), Detail: fmt.Sprintf("at most %d endpoints per slice", MaxEndpointsPerSlice)})
	}
	for i, ep := range es.Endpoints {
		path := fmt.Sprintf("endpoints[%d]", i)
		if len(ep.Addresses) == 0 || len(ep.Addresses) > maxAddressesPerEndpoint {
			errs = append(errs, &FieldError{Path: path + ".addresses", Value: fmt.Sprint(len(ep.Addresses)),
				Detail: fmt.Sprintf("must hold between 1 and %d addresses", maxAddressesPerEndpoint)})
		}
		for j, a := range ep.Addresses {
			if msg := nonSpecialIPv4(a); msg != "" {
				errs = append(errs, &FieldError{Path: fmt.Sprintf("%s.addresses[%d]", path, j), Value: a, Detail: msg})
			}
		}
		if ep.Hostname != nil {
			errs = append(errs, validateDNSLabel(path+".hostname", *ep.Hostname)...)
		}
		if ep.NodeName != nil {
			errs = append(errs, validateName(path+".nodeName", *ep.NodeName)...)
		}
	}
	if len(es.Ports) > MaxPortsPerSlice {
		errs = append(errs, &FieldError{Path: "ports", Value: fmt.Sprint(len(es.Ports)), Detail: fmt.Sprintf("at most %d ports per slice", MaxPortsPerSlice)})
	}
	names := map[string]bool{}
	for i, p := range es.Ports {
		name, proto := "", Protocol("")
		if p.Name != nil {
			name = *p.Name
		}
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		// As in Kubernetes, one port of a slice may go unnamed beside named
		// ones; every name, the empty one too, is unique.
		path := fmt.Sprintf("ports[%d]", i)
		if name == "" && names[""] {
			errs = append(errs, &FieldError{Path: path + ".name", Detail: "duplicate port name (only one port may be unnamed)"})
		}
		if name == "" {
			names[""] = true
		}
		errs = append(errs, validateEndpointPort(path, name, 1, names, proto, p.Port)...)
	}
	return errs.orNil()
}
