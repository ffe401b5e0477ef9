package api

import (
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// How a pod stops, as in Kubernetes: a graceful delete marks it with
// metadata.deletionTimestamp and deletionGracePeriodSeconds, its node runs
// each container's lifecycle.preStop, sends SIGTERM, waits up to the
// grace period and sends SIGKILL; lifecycle.postStart runs as a container
// starts. Handlers are exec, httpGet (to the pod's own IP) or sleep.

// DefaultTerminationGracePeriodSeconds is Kubernetes' default grace.
// shoal leaves spec.terminationGracePeriodSeconds unset when a manifest
// does (stored pods and templates stay as written) and reads it through
// TerminationGracePeriod.
const DefaultTerminationGracePeriodSeconds int64 = 30

// lifecycleFields are the supported fields of the lifecycle types and the
// fields they add to types listed in supportedFields (merged by
// supportedSets).
var lifecycleFields = map[reflect.Type][]string{
	reflect.TypeFor[metav1.ObjectMeta]():       {"deletionGracePeriodSeconds"},
	reflect.TypeFor[corev1.PodSpec]():          {"terminationGracePeriodSeconds"},
	reflect.TypeFor[corev1.Container]():        {"lifecycle"},
	reflect.TypeFor[corev1.Lifecycle]():        {"postStart", "preStop"},
	reflect.TypeFor[corev1.LifecycleHandler](): {"exec", "httpGet", "sleep"},
	reflect.TypeFor[corev1.SleepAction]():      {"seconds"},
}

// TerminationGracePeriod is the pod's grace period in seconds: its
// spec.terminationGracePeriodSeconds, else the default.
func TerminationGracePeriod(p *Pod) int64 {
	if g := p.Spec.TerminationGracePeriodSeconds; g != nil {
		return *g
	}
	return DefaultTerminationGracePeriodSeconds
}

func defaultLifecycle(c *Container) {
	if c.Lifecycle == nil {
		return
	}
	for _, h := range []*corev1.LifecycleHandler{c.Lifecycle.PostStart, c.Lifecycle.PreStop} {
		if h != nil && h.HTTPGet != nil {
			if h.HTTPGet.Path == "" {
				h.HTTPGet.Path = "/"
			}
			if h.HTTPGet.Scheme == "" {
				h.HTTPGet.Scheme = corev1.URISchemeHTTP
			}
		}
	}
}

func validateGracePeriod(path string, s *PodSpec) FieldErrors {
	if g := s.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		return FieldErrors{{Path: path + ".terminationGracePeriodSeconds", Value: fmt.Sprint(*g), Detail: "must be greater than or equal to 0"}}
	}
	return nil
}

// validateLifecycle checks a container's hooks; init containers may have
// none (they run to completion before the pod's containers start).
func validateLifecycle(path string, c *Container, init bool) FieldErrors {
	if c.Lifecycle == nil {
		return nil
	}
	if init {
		return FieldErrors{{Path: path + ".lifecycle", Detail: "must not be set for init containers"}}
	}
	var errs FieldErrors
	for name, h := range map[string]*corev1.LifecycleHandler{"postStart": c.Lifecycle.PostStart, "preStop": c.Lifecycle.PreStop} {
		if h == nil {
			continue
		}
		hpath := path + ".lifecycle." + name
		n := 0
		if h.Exec != nil {
			n++
			if len(h.Exec.Command) == 0 {
				errs = append(errs, &FieldError{Path: hpath + ".exec.command", Detail: "required"})
			}
		}
		if g := h.HTTPGet; g != nil {
			n++
			errs = append(errs, validateProbePort(hpath+".httpGet.port", g.Port, c)...)
			if g.Scheme != corev1.URISchemeHTTP {
				errs = append(errs, &FieldError{Path: hpath + ".httpGet.scheme", Value: string(g.Scheme), Detail: "must be HTTP (shoal's hooks do not speak HTTPS)"})
			}
			if g.Path != "" && g.Path[0] != '/' {
				errs = append(errs, &FieldError{Path: hpath + ".httpGet.path", Value: g.Path, Detail: "must start with /"})
			}
			if g.Host != "" {
				errs = append(errs, &FieldError{Path: hpath + ".httpGet.host", Value: g.Host, Detail: "not supported by shoal (hooks go to the pod's own IP)"})
			}
		}
		if h.Sleep != nil {
			n++
			if h.Sleep.Seconds < 0 {
				errs = append(errs, &FieldError{Path: hpath + ".sleep.seconds", Value: fmt.Sprint(h.Sleep.Seconds), Detail: "must be greater than or equal to 0"})
			}
		}
		if n != 1 {
			errs = append(errs, &FieldError{Path: hpath, Detail: fmt.Sprintf("must have exactly one handler (exec, httpGet or sleep), has %d", n)})
		}
	}
	return errs
}
