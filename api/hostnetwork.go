package api

import (
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
)

// hostNetwork: true runs a pod in its node's network namespace (node
// agents of a DaemonSet: a metrics exporter, a log shipper listening on
// the node's address), as in Kubernetes: the pod's IP is the node's, and
// its ports are the node's ports, so two such pods claiming one port
// cannot share a node (placement refuses the second node by node). As
// Kubernetes defaults it, each port's hostPort is its containerPort;
// hostPort is supported only so (shoal maps no ports).

// hostNetworkFields are the supported fields hostNetwork (and
// shareProcessNamespace, the other namespace a pod may share) add to types
// listed in supportedFields (merged by supportedSets).
var hostNetworkFields = map[reflect.Type][]string{
	reflect.TypeFor[corev1.PodSpec]():       {"hostNetwork", "shareProcessNamespace"}, // shareProcessNamespace: podruntime/pidns.go
	reflect.TypeFor[corev1.ContainerPort](): {"hostPort"},
}

// defaultHostPorts fills each port's hostPort of a hostNetwork pod, as
// Kubernetes' defaulting does.
func defaultHostPorts(s *PodSpec) {
	if !s.HostNetwork {
		return
	}
	for _, list := range [][]Container{s.InitContainers, s.Containers} {
		for i := range list {
			for j := range list[i].Ports {
				if p := &list[i].Ports[j]; p.HostPort == 0 {
					p.HostPort = p.ContainerPort
				}
			}
		}
	}
}

// validateHostPorts refuses a hostPort that is not the containerPort of a
// hostNetwork pod.
func validateHostPorts(path string, s *PodSpec) FieldErrors {
	var errs FieldErrors
	for _, group := range []struct {
		name string
		list []Container
	}{{"initContainers", s.InitContainers}, {"containers", s.Containers}} {
		for i := range group.list {
			for j, p := range group.list[i].Ports {
				if p.HostPort == 0 {
					continue
				}
				hpath := fmt.Sprintf("%s.%s[%d].ports[%d].hostPort", path, group.name, i, j)
				switch {
				case !s.HostNetwork:
					errs = append(errs, &FieldError{Path: hpath, Value: fmt.Sprint(p.HostPort), Detail: "not supported by shoal without hostNetwork: true (shoal maps no ports; a pod is reached at its own IP)"})
				case p.HostPort != p.ContainerPort:
					errs = append(errs, &FieldError{Path: hpath, Value: fmt.Sprint(p.HostPort), Detail: fmt.Sprintf("must equal containerPort (%d) with hostNetwork: true", p.ContainerPort)})
				}
			}
		}
	}
	return errs
}

// HostPorts are the node ports a pod takes on its node, as "TCP/8080":
// those of a hostNetwork pod's containers (sidecars included). Two pods
// taking one port do not fit one node.
func HostPorts(p *Pod) []string {
	if !p.Spec.HostNetwork {
		return nil
	}
	var out []string
	for _, list := range [][]Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range list {
			for _, port := range list[i].Ports {
				hp := port.HostPort
				if hp == 0 {
					hp = port.ContainerPort
				}
				proto := port.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				out = append(out, fmt.Sprintf("%s/%d", proto, hp))
			}
		}
	}
	return out
}
