package api

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
)

// Native sidecars, as in Kubernetes: an init container with
// restartPolicy: Always starts in its place among the init containers,
// counts as done once it runs (and its startupProbe, if any, passed), and
// then keeps running, restarted whenever it exits, beside the app
// containers; it stops after them. Such a container may have probes and
// lifecycle hooks, which other init containers may not.

// sidecarFields are the supported fields sidecars add to types listed in
// supportedFields (merged by supportedSets).
var sidecarFields = map[reflect.Type][]string{
	reflect.TypeFor[corev1.Container](): {"restartPolicy"},
}

// IsSidecar tells whether an init container is a sidecar.
func IsSidecar(c *Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// validateContainerRestartPolicy checks a container's own restartPolicy:
// only an init container may have one, and only Always (what Kubernetes
// accepts without feature gates).
func validateContainerRestartPolicy(path string, c *Container, init bool) FieldErrors {
	if c.RestartPolicy == nil {
		return nil
	}
	p := path + ".restartPolicy"
	if !init {
		return FieldErrors{{Path: p, Value: string(*c.RestartPolicy), Detail: "may be set only for init containers (restartPolicy: Always makes a sidecar)"}}
	}
	if *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		return FieldErrors{{Path: p, Value: string(*c.RestartPolicy), Detail: "must be Always (a sidecar) or unset"}}
	}
	return nil
}
