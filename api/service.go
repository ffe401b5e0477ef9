package api

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// A Service (core/v1) gives the pods its selector matches one stable
// virtual IP (its ClusterIP, from the fleet's service range) and, for type
// NodePort, a port on every node. shoal supports types ClusterIP and
// NodePort, headless Services (clusterIP: None), ports by number or by
// container port name, ClientIP session affinity and externalIPs, on an
// IPv4 single-stack service network. The ClusterIP and node ports are
// allocated by the state machine (consensus), which also checks that a
// requested clusterIP lies in the service range and is free.

// Service types, affinities and policies shoal knows.
const (
	ServiceTypeClusterIP     = corev1.ServiceTypeClusterIP
	ServiceTypeNodePort      = corev1.ServiceTypeNodePort
	ServiceAffinityNone      = corev1.ServiceAffinityNone
	ServiceAffinityClientIP  = corev1.ServiceAffinityClientIP
	ClusterIPNone            = corev1.ClusterIPNone
	ProtocolTCP              = corev1.ProtocolTCP
	ProtocolUDP              = corev1.ProtocolUDP
	IPv4Family               = corev1.IPv4Protocol
	IPFamilyPolicySingle     = corev1.IPFamilyPolicySingleStack
	IPFamilyPolicyPreferDual = corev1.IPFamilyPolicyPreferDualStack
	IPFamilyPolicyRequire    = corev1.IPFamilyPolicyRequireDualStack
	TrafficPolicyCluster     = corev1.ServiceInternalTrafficPolicyCluster
	ExternalPolicyCluster    = corev1.ServiceExternalTrafficPolicyCluster
	// DefaultClientIPTimeout is Kubernetes' default stickiness of ClientIP
	// affinity: three hours.
	DefaultClientIPTimeout = int32(corev1.DefaultClientIPServiceAffinitySeconds)
	// MaxClientIPTimeout is the longest ClientIP stickiness: one day.
	MaxClientIPTimeout = 86400
)

// The node port range, as Kubernetes' default --service-node-port-range.
const (
	MinNodePort = 30000
	MaxNodePort = 32767
)

// IsHeadless tells whether the Service has no virtual IP (clusterIP:
// None): DNS answers with its ready pods' IPs instead.
func IsHeadless(s *Service) bool { return s.Spec.ClusterIP == ClusterIPNone }

// NeedsNodePorts tells whether the Service's type opens a port on every node.
func NeedsNodePorts(s *Service) bool { return s.Spec.Type == ServiceTypeNodePort }

// defaultService fills in what Kubernetes fills in on an IPv4 single-stack
// cluster, so that what `kubectl get svc -o yaml` shows applies again
// unchanged. The ClusterIP and node ports are the state machine's to fill.
func defaultService(s *Service) {
	s.APIVersion, s.Kind = V1, KindService
	if s.Namespace == "" {
		s.Namespace = DefaultNamespace
	}
	sp := &s.Spec
	if sp.Type == "" {
		sp.Type = ServiceTypeClusterIP
	}
	if sp.SessionAffinity == "" {
		sp.SessionAffinity = ServiceAffinityNone
	}
	if sp.SessionAffinity == ServiceAffinityClientIP {
		if sp.SessionAffinityConfig == nil {
			sp.SessionAffinityConfig = &corev1.SessionAffinityConfig{}
		}
		if sp.SessionAffinityConfig.ClientIP == nil {
			sp.SessionAffinityConfig.ClientIP = &corev1.ClientIPConfig{}
		}
		if sp.SessionAffinityConfig.ClientIP.TimeoutSeconds == nil {
			t := int32(DefaultClientIPTimeout)
			sp.SessionAffinityConfig.ClientIP.TimeoutSeconds = &t
		}
	}
	for i := range sp.Ports {
		p := &sp.Ports[i]
		if p.Protocol == "" {
			p.Protocol = ProtocolTCP
		}
		if (p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal == 0) ||
			(p.TargetPort.Type == intstr.String && p.TargetPort.StrVal == "") {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	switch {
	case sp.ClusterIP != "" && len(sp.ClusterIPs) == 0:
		sp.ClusterIPs = []string{sp.ClusterIP}
	case sp.ClusterIP == "" && len(sp.ClusterIPs) > 0:
		sp.ClusterIP = sp.ClusterIPs[0]
	}
	if sp.IPFamilyPolicy == nil {
		// Kubernetes makes a headless Service without a selector
		// RequireDualStack (its endpoints may be of either family); on an
		// IPv4-only fleet that still means IPv4 alone.
		policy := IPFamilyPolicySingle
		if IsHeadless(s) && len(sp.Selector) == 0 {
			policy = IPFamilyPolicyRequire
		}
		sp.IPFamilyPolicy = &policy
	}
	if len(sp.IPFamilies) == 0 {
		sp.IPFamilies = []corev1.IPFamily{IPv4Family}
	}
	if sp.InternalTrafficPolicy == nil {
		policy := TrafficPolicyCluster
		sp.InternalTrafficPolicy = &policy
	}
	if NeedsNodePorts(s) && sp.ExternalTrafficPolicy == "" {
		sp.ExternalTrafficPolicy = ExternalPolicyCluster
	}
}

// ValidateService checks a defaulted Service on its own; the state machine
// adds what needs the fleet (the service range, addresses and node ports
// already taken) and ValidateServiceUpdate what needs the stored one.
func ValidateService(s *Service) error {
	var errs FieldErrors
	errs = append(errs, validateDNS1035Label("metadata.name", s.Name)...)
	errs = append(errs, validateDNSLabel("metadata.namespace", s.Namespace)...)
	errs = append(errs, validateLabels("metadata.labels", s.Labels)...)
	sp := &s.Spec
	switch sp.Type {
	case ServiceTypeClusterIP, ServiceTypeNodePort:
	case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName:
		errs = append(errs, &FieldError{Path: "spec.type", Value: string(sp.Type), Detail: "not supported by shoal (supported: ClusterIP, NodePort)"})
	default:
		errs = append(errs, &FieldError{Path: "spec.type", Value: string(sp.Type), Detail: "must be ClusterIP or NodePort"})
	}
	errs = append(errs, validateLabels("spec.selector", sp.Selector)...)
	errs = append(errs, validateClusterIP(s)...)
	errs = append(errs, validateServicePorts(s)...)
	errs = append(errs, validateAffinity(sp)...)
	errs = append(errs, validateServicePolicies(s)...)
	for i, ip := range sp.ExternalIPs {
		if msg := nonSpecialIPv4(ip); msg != "" {
			errs = append(errs, &FieldError{Path: fmt.Sprintf("spec.externalIPs[%d]", i), Value: ip, Detail: msg})
		}
	}
	return errs.orNil()
}

func validateClusterIP(s *Service) FieldErrors {
	var errs FieldErrors
	sp := &s.Spec
	if sp.ClusterIP != "" && sp.ClusterIP != ClusterIPNone {
		if ip, err := netip.ParseAddr(sp.ClusterIP); err != nil || !ip.Is4() || ip.IsUnspecified() {
			errs = append(errs, &FieldError{Path: "spec.clusterIP", Value: sp.ClusterIP,
				Detail: `must be an IPv4 address of the service range, "None" (headless) or empty (allocated)`})
		}
	}
	if len(sp.ClusterIPs) > 1 {
		errs = append(errs, &FieldError{Path: "spec.clusterIPs", Value: fmt.Sprint(sp.ClusterIPs),
			Detail: "at most one address: shoal's service network is IPv4 single-stack"})
	}
	if len(sp.ClusterIPs) > 0 && sp.ClusterIPs[0] != sp.ClusterIP {
		errs = append(errs, &FieldError{Path: "spec.clusterIPs[0]", Value: sp.ClusterIPs[0], Detail: "must match spec.clusterIP " + sp.ClusterIP})
	}
	if IsHeadless(s) && NeedsNodePorts(s) {
		errs = append(errs, &FieldError{Path: "spec.clusterIP", Value: ClusterIPNone, Detail: "a NodePort Service needs a virtual IP: it may not be headless"})
	}
	return errs
}

func validateServicePorts(s *Service) FieldErrors {
	var errs FieldErrors
	sp := &s.Spec
	if len(sp.Ports) == 0 && !IsHeadless(s) {
		errs = append(errs, &FieldError{Path: "spec.ports", Detail: "required: a Service with a virtual IP needs at least one port"})
	}
	names := map[string]string{}
	ports := map[string]string{}
	nodePorts := map[string]string{}
	for i, p := range sp.Ports {
		path := fmt.Sprintf("spec.ports[%d]", i)
		switch {
		case p.Name == "" && len(sp.Ports) > 1:
			errs = append(errs, &FieldError{Path: path + ".name", Detail: "required when the Service has more than one port"})
		case p.Name != "":
			errs = append(errs, validateDNSLabel(path+".name", p.Name)...)
			if prev, ok := names[p.Name]; ok {
				errs = append(errs, &FieldError{Path: path + ".name", Value: p.Name, Detail: "duplicate port name (also " + prev + ")"})
			} else {
				names[p.Name] = path + ".name"
			}
		}
		switch p.Protocol {
		case ProtocolTCP, ProtocolUDP:
		case corev1.ProtocolSCTP:
			errs = append(errs, &FieldError{Path: path + ".protocol", Value: string(p.Protocol), Detail: "not supported by shoal (supported: TCP, UDP)"})
		default:
			errs = append(errs, &FieldError{Path: path + ".protocol", Value: string(p.Protocol), Detail: "must be TCP or UDP"})
		}
		if p.Port < 1 || p.Port > 65535 {
			errs = append(errs, &FieldError{Path: path + ".port", Value: fmt.Sprint(p.Port), Detail: "must be between 1 and 65535"})
		} else {
			key := fmt.Sprintf("%d/%s", p.Port, p.Protocol)
			if prev, ok := ports[key]; ok {
				errs = append(errs, &FieldError{Path: path + ".port", Value: key, Detail: "duplicate port and protocol (also " + prev + ")"})
			} else {
				ports[key] = path + ".port"
			}
		}
		// A targetPort defaulted from the port says nothing new.
		if isName(p.TargetPort) || p.TargetPort.IntVal != p.Port {
			errs = append(errs, validateTargetPort(path+".targetPort", p.TargetPort)...)
		}
		if p.NodePort == 0 {
			continue
		}
		npath := path + ".nodePort"
		switch {
		case sp.Type != ServiceTypeClusterIP && sp.Type != ServiceTypeNodePort:
			// The type is wrong already; whether it opens node ports is moot.
		case !NeedsNodePorts(s):
			errs = append(errs, &FieldError{Path: npath, Value: fmt.Sprint(p.NodePort), Detail: "may not be used when type is " + string(sp.Type)})
		case p.NodePort < MinNodePort || p.NodePort > MaxNodePort:
			errs = append(errs, &FieldError{Path: npath, Value: fmt.Sprint(p.NodePort), Detail: fmt.Sprintf("must be between %d and %d", MinNodePort, MaxNodePort)})
		default:
			key := fmt.Sprintf("%d/%s", p.NodePort, p.Protocol)
			if prev, ok := nodePorts[key]; ok {
				errs = append(errs, &FieldError{Path: npath, Value: key, Detail: "duplicate node port and protocol (also " + prev + ")"})
			} else {
				nodePorts[key] = npath
			}
		}
	}
	return errs
}

// validateTargetPort: a number, or the name of a port of the selected
// pods' containers (resolved per pod by the endpoints controller).
func validateTargetPort(path string, v IntOrString) FieldErrors {
	if isName(v) {
		var errs FieldErrors
		for _, msg := range validation.IsValidPortName(v.StrVal) {
			errs = append(errs, &FieldError{Path: path, Value: v.StrVal, Detail: msg})
		}
		return errs
	}
	if v.IntVal < 1 || v.IntVal > 65535 {
		return FieldErrors{{Path: path, Value: fmt.Sprint(v.IntVal), Detail: "must be between 1 and 65535, or a container port's name"}}
	}
	return nil
}

func validateAffinity(sp *ServiceSpec) FieldErrors {
	var errs FieldErrors
	switch sp.SessionAffinity {
	case ServiceAffinityNone:
		if sp.SessionAffinityConfig != nil {
			errs = append(errs, &FieldError{Path: "spec.sessionAffinityConfig", Detail: "must not be set when sessionAffinity is None"})
		}
	case ServiceAffinityClientIP:
		cfg := sp.SessionAffinityConfig
		if cfg == nil || cfg.ClientIP == nil || cfg.ClientIP.TimeoutSeconds == nil {
			errs = append(errs, &FieldError{Path: "spec.sessionAffinityConfig.clientIP.timeoutSeconds", Detail: "required when sessionAffinity is ClientIP"})
		} else if t := *cfg.ClientIP.TimeoutSeconds; t < 1 || t > MaxClientIPTimeout {
			errs = append(errs, &FieldError{Path: "spec.sessionAffinityConfig.clientIP.timeoutSeconds", Value: fmt.Sprint(t),
				Detail: fmt.Sprintf("must be between 1 and %d", MaxClientIPTimeout)})
		}
	default:
		errs = append(errs, &FieldError{Path: "spec.sessionAffinity", Value: string(sp.SessionAffinity), Detail: "must be None or ClientIP"})
	}
	return errs
}

// validateServicePolicies accepts the values Kubernetes fills in on an
// IPv4 single-stack cluster, and refuses by value what would ask for
// behaviour shoal does not have (IPv6, node-local traffic only).
func validateServicePolicies(s *Service) FieldErrors {
	var errs FieldErrors
	sp := &s.Spec
	for i, f := range sp.IPFamilies {
		path := fmt.Sprintf("spec.ipFamilies[%d]", i)
		switch {
		case f == corev1.IPv6Protocol:
			errs = append(errs, &FieldError{Path: path, Value: string(f), Detail: "not supported by shoal: the service network is IPv4"})
		case f != IPv4Family:
			errs = append(errs, &FieldError{Path: path, Value: string(f), Detail: "must be IPv4"})
		case i > 0:
			errs = append(errs, &FieldError{Path: path, Value: string(f), Detail: "duplicate family"})
		}
	}
	if p := sp.IPFamilyPolicy; p != nil {
		switch *p {
		case IPFamilyPolicySingle, IPFamilyPolicyPreferDual:
		case IPFamilyPolicyRequire:
			// Kubernetes' own default for a headless Service without a
			// selector; anything else would need an IPv6 service range.
			if !IsHeadless(s) || len(sp.Selector) > 0 {
				errs = append(errs, &FieldError{Path: "spec.ipFamilyPolicy", Value: string(*p), Detail: "not supported by shoal: the service network is IPv4 single-stack"})
			}
		default:
			errs = append(errs, &FieldError{Path: "spec.ipFamilyPolicy", Value: string(*p), Detail: "must be SingleStack, PreferDualStack or RequireDualStack"})
		}
	}
	if p := sp.InternalTrafficPolicy; p != nil && *p != TrafficPolicyCluster {
		detail := "must be Cluster"
		if *p == corev1.ServiceInternalTrafficPolicyLocal {
			detail = "not supported by shoal (supported: Cluster)"
		}
		errs = append(errs, &FieldError{Path: "spec.internalTrafficPolicy", Value: string(*p), Detail: detail})
	}
	switch etp := sp.ExternalTrafficPolicy; {
	case etp == "", sp.Type != ServiceTypeClusterIP && sp.Type != ServiceTypeNodePort:
	case !NeedsNodePorts(s):
		errs = append(errs, &FieldError{Path: "spec.externalTrafficPolicy", Value: string(etp), Detail: "may only be set when type is NodePort"})
	case etp == corev1.ServiceExternalTrafficPolicyLocal:
		errs = append(errs, &FieldError{Path: "spec.externalTrafficPolicy", Value: string(etp), Detail: "not supported by shoal (supported: Cluster)"})
	case etp != ExternalPolicyCluster:
		errs = append(errs, &FieldError{Path: "spec.externalTrafficPolicy", Value: string(etp), Detail: "must be Cluster"})
	}
	return errs
}

// PrepareServiceUpdate carries over, as Kubernetes' service REST does,
// what the stored Service was allocated and the new one leaves out: a
// manifest applied again has no clusterIP or nodePort, and is no request to
// change them. A nodePort is carried over by port name, when the type
// still opens node ports. Node ports and externalTrafficPolicy left as
// they were are dropped when the type no longer uses them (NodePort ->
// ClusterIP). Both are defaulted Services; next is changed in place.
func PrepareServiceUpdate(old, next *Service) {
	os, ns := &old.Spec, &next.Spec
	if ns.ClusterIP == "" && len(ns.ClusterIPs) == 0 {
		ns.ClusterIP = os.ClusterIP
		ns.ClusterIPs = append([]string(nil), os.ClusterIPs...)
	}
	switch {
	case NeedsNodePorts(old) && NeedsNodePorts(next):
		used := map[int32]bool{}
		for _, p := range ns.Ports {
			if p.NodePort != 0 {
				used[p.NodePort] = true
			}
		}
		byName := map[string]int32{}
		for _, p := range os.Ports {
			byName[p.Name] = p.NodePort
		}
		for i := range ns.Ports {
			p := &ns.Ports[i]
			if was := byName[p.Name]; p.NodePort == 0 && was != 0 && !used[was] {
				p.NodePort = was
				used[was] = true
			}
		}
	case NeedsNodePorts(old) && !NeedsNodePorts(next):
		if sameNodePorts(os.Ports, ns.Ports) {
			for i := range ns.Ports {
				ns.Ports[i].NodePort = 0
			}
		}
		if ns.ExternalTrafficPolicy == os.ExternalTrafficPolicy {
			ns.ExternalTrafficPolicy = ""
		}
	}
}

func sameNodePorts(a, b []ServicePort) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].NodePort != b[i].NodePort {
			return false
		}
	}
	return true
}

// ValidateServiceUpdate checks what may not change between the stored
// Service and its replacement (after PrepareServiceUpdate).
func ValidateServiceUpdate(old, next *Service) error {
	var errs FieldErrors
	if next.Spec.ClusterIP != old.Spec.ClusterIP {
		errs = append(errs, &FieldError{Path: "spec.clusterIP", Value: next.Spec.ClusterIP,
			Detail: "field is immutable (it is " + old.Spec.ClusterIP + "): delete and re-create the Service to change it"})
	}
	return errs.orNil()
}

// nonSpecialIPv4 explains why ip cannot be a Service's address: not an
// IPv4 address, or one that never leaves a host (unspecified, loopback,
// link-local, multicast). "" when it can.
func nonSpecialIPv4(ip string) string {
	a, err := netip.ParseAddr(ip)
	switch {
	case err != nil || !a.Is4():
		return "must be an IPv4 address"
	case a.IsUnspecified(), a.IsLoopback(), a.IsLinkLocalUnicast(), a.IsMulticast(), a.IsLinkLocalMulticast():
		return "may not be unspecified, loopback, link-local or multicast"
	}
	return ""
}

func validateDNS1035Label(path, name string) FieldErrors {
	if name == "" {
		return FieldErrors{{Path: path, Detail: "required"}}
	}
	var errs FieldErrors
	for _, msg := range validation.IsDNS1035Label(name) {
		errs = append(errs, &FieldError{Path: path, Value: name, Detail: msg})
	}
	return errs
}
