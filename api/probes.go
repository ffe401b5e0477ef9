package api

import corev1 "k8s.io/api/core/v1"

// Probe defaults, as in Kubernetes.
const (
	DefaultProbePeriodSeconds    = 10
	DefaultProbeTimeoutSeconds   = 1
	DefaultProbeSuccessThreshold = 1
	DefaultProbeFailureThreshold = 3
)

func defaultProbe(p *Probe) {
	if p == nil {
		return
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = DefaultProbePeriodSeconds
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = DefaultProbeTimeoutSeconds
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = DefaultProbeSuccessThreshold
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = DefaultProbeFailureThreshold
	}
	if h := p.HTTPGet; h != nil {
		if h.Path == "" {
			h.Path = "/"
		}
		if h.Scheme == "" {
			h.Scheme = corev1.URISchemeHTTP
		}
	}
}

// ResolvePort turns a probe port (a number or the name of one of the
// container's ports) into a number; ok is false when the name is unknown.
func ResolvePort(port IntOrString, c *Container) (int32, bool) {
	if !isName(port) {
		return port.IntVal, port.IntVal >= 1 && port.IntVal <= 65535
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return p.ContainerPort, true
		}
	}
	return 0, false
}
