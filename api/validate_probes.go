package api

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation"
)

// validateProbes checks a container's three probes.
func validateProbes(fpath string, c *Container) FieldErrors {
	var errs FieldErrors
	errs = append(errs, validateProbe(fpath+".livenessProbe", c.LivenessProbe, c, true)...)
	errs = append(errs, validateProbe(fpath+".readinessProbe", c.ReadinessProbe, c, false)...)
	errs = append(errs, validateProbe(fpath+".startupProbe", c.StartupProbe, c, true)...)
	return errs
}

// validateProbe checks one defaulted probe. successOne: Kubernetes requires
// successThreshold 1 for liveness and startup probes.
func validateProbe(fpath string, p *Probe, c *Container, successOne bool) FieldErrors {
	if p == nil {
		return nil
	}
	var errs FieldErrors
	n := 0
	if p.Exec != nil {
		n++
		if len(p.Exec.Command) == 0 {
			errs = append(errs, &FieldError{Path: fpath + ".exec.command", Detail: "required"})
		}
	}
	if h := p.HTTPGet; h != nil {
		n++
		errs = append(errs, validateProbePort(fpath+".httpGet.port", h.Port, c)...)
		if h.Scheme != "HTTP" && h.Scheme != "HTTPS" {
			errs = append(errs, &FieldError{Path: fpath + ".httpGet.scheme", Value: string(h.Scheme), Detail: "must be HTTP or HTTPS"})
		}
		if h.Path != "" && h.Path[0] != '/' {
			errs = append(errs, &FieldError{Path: fpath + ".httpGet.path", Value: h.Path, Detail: "must start with /"})
		}
		if h.Host != "" {
			errs = append(errs, &FieldError{Path: fpath + ".httpGet.host", Value: h.Host,
				Detail: "not supported by shoal (probes go to the pod's own IP)"})
		}
		for i, hd := range h.HTTPHeaders {
			for _, msg := range validation.IsHTTPHeaderName(hd.Name) {
				errs = append(errs, &FieldError{Path: fmt.Sprintf("%s.httpGet.httpHeaders[%d].name", fpath, i), Value: hd.Name, Detail: msg})
			}
		}
	}
	if t := p.TCPSocket; t != nil {
		n++
		errs = append(errs, validateProbePort(fpath+".tcpSocket.port", t.Port, c)...)
		if t.Host != "" {
			errs = append(errs, &FieldError{Path: fpath + ".tcpSocket.host", Value: t.Host,
				Detail: "not supported by shoal (probes go to the pod's own IP)"})
		}
	}
	if n != 1 {
		errs = append(errs, &FieldError{Path: fpath, Detail: fmt.Sprintf("must have exactly one handler (exec, httpGet or tcpSocket), has %d", n)})
	}
	nonNeg := func(name string, v int32) {
		if v < 0 {
			errs = append(errs, &FieldError{Path: fpath + "." + name, Value: fmt.Sprint(v), Detail: "must be greater than or equal to 0"})
		}
	}
	positive := func(name string, v int32) {
		if v < 1 {
			errs = append(errs, &FieldError{Path: fpath + "." + name, Value: fmt.Sprint(v), Detail: "must be greater than or equal to 1"})
		}
	}
	nonNeg("initialDelaySeconds", p.InitialDelaySeconds)
	positive("timeoutSeconds", p.TimeoutSeconds)
	positive("periodSeconds", p.PeriodSeconds)
	positive("successThreshold", p.SuccessThreshold)
	positive("failureThreshold", p.FailureThreshold)
	if successOne && p.SuccessThreshold != 1 {
		errs = append(errs, &FieldError{Path: fpath + ".successThreshold", Value: fmt.Sprint(p.SuccessThreshold), Detail: "must be 1"})
	}
	return errs
}

func validateProbePort(fpath string, port IntOrString, c *Container) FieldErrors {
	if isName(port) {
		for _, msg := range validation.IsValidPortName(port.StrVal) {
			return FieldErrors{{Path: fpath, Value: port.StrVal, Detail: msg}}
		}
		if _, ok := ResolvePort(port, c); !ok {
			return FieldErrors{{Path: fpath, Value: port.StrVal, Detail: "no port of that name in the container's ports"}}
		}
		return nil
	}
	if port.IntVal < 1 || port.IntVal > 65535 {
		return FieldErrors{{Path: fpath, Value: fmt.Sprint(port.IntVal), Detail: "must be between 1 and 65535"}}
	}
	return nil
}
