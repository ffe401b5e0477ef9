package api

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Validate checks an object after defaulting and names every field that is wrong.
func Validate(obj Object) error {
	switch o := obj.(type) {
	case *Pod:
		return ValidatePod(o)
	case *Node:
		return ValidateNode(o)
	case *ReplicationController:
		return ValidateReplicationController(o)
	case *ReplicaSet:
		return ValidateReplicaSet(o)
	case *Deployment:
		return ValidateDeployment(o)
	case *DaemonSet:
		return ValidateDaemonSet(o)
	case *ControllerRevision:
		return ValidateControllerRevision(o)
	case *Secret:
		return ValidateSecret(o)
	case *ConfigMap:
		return ValidateConfigMap(o)
	case *ServiceAccount:
		return ValidateServiceAccount(o)
	case *Service:
		return ValidateService(o)
	case *Endpoints:
		return ValidateEndpoints(o)
	case *EndpointSlice:
		return ValidateEndpointSlice(o)
	case *Namespace:
		return ValidateNamespace(o)
	case *Job:
		return ValidateJob(o)
	case *CronJob:
		return ValidateCronJob(o)
	case *Lease:
		return ValidateLease(o)
	case *Event:
		return ValidateEvent(o)
	}
	return fmt.Errorf("validate: unsupported object %T", obj)
}

// ValidateNode checks a node's name, labels and taints.
func ValidateNode(n *Node) error {
	var errs FieldErrors
	errs = append(errs, validateName("metadata.name", n.Name)...)
	errs = append(errs, validateLabels("metadata.labels", n.Labels)...)
	errs = append(errs, validateTaints("spec.taints", n.Spec.Taints)...) // taints.go
	return errs.orNil()
}

// ValidatePod checks a defaulted pod.
func ValidatePod(p *Pod) error {
	var errs FieldErrors
	errs = append(errs, validateName("metadata.name", p.Name)...)
	errs = append(errs, validateDNSLabel("metadata.namespace", p.Namespace)...)
	errs = append(errs, validateLabels("metadata.labels", p.Labels)...)
	errs = append(errs, validatePodSpec("spec", &p.Spec)...)
	return errs.orNil()
}

func validatePodSpec(path string, s *PodSpec) FieldErrors {
	var errs FieldErrors
	if len(s.Containers) == 0 {
		errs = append(errs, &FieldError{Path: path + ".containers", Detail: "required: a pod needs at least one container"})
	}
	switch s.RestartPolicy {
	case RestartAlways, RestartOnFailure, RestartNever:
	default:
		errs = append(errs, &FieldError{Path: path + ".restartPolicy", Value: string(s.RestartPolicy),
			Detail: "must be Always, OnFailure or Never"})
	}
	// kubectl run and every Deployment kubectl creates set ClusterFirst.
	// Without a cluster DNS server on the node, ClusterFirst is Default,
	// as the kubelet does when it has no --cluster-dns.
	errs = append(errs, validateDNS(path, s)...) // dnsconfig.go
	errs = append(errs, validateLabels(path+".nodeSelector", s.NodeSelector)...)
	errs = append(errs, validateTolerations(path+".tolerations", s.Tolerations)...)                                // taints.go
	errs = append(errs, validateNodeAffinity(path+".affinity", s.Affinity)...)                                     // affinity.go
	errs = append(errs, validatePodSecurityContext(path+".securityContext", s.SecurityContext)...)                 // security.go
	errs = append(errs, validateNoopPodFields(path, s)...)                                                         // noop_fields.go
	errs = append(errs, validateTopologySpread(path+".topologySpreadConstraints", s.TopologySpreadConstraints)...) // affinity.go
	errs = append(errs, validateGracePeriod(path, s)...)                                                           // lifecycle.go
	errs = append(errs, validatePodServiceAccount(path, s)...)                                                     // serviceaccount.go
	errs = append(errs, validateHostPorts(path, s)...)                                                             // hostnetwork.go
	if s.NodeName != "" {
		errs = append(errs, validateName(path+".nodeName", s.NodeName)...)
	}
	for i, ref := range s.ImagePullSecrets {
		errs = append(errs, validateName(fmt.Sprintf("%s.imagePullSecrets[%d].name", path, i), ref.Name)...)
	}
	volErrs, volumes := validateVolumes(path+".volumes", s.Volumes)
	errs = append(errs, volErrs...)
	names := map[string]string{}
	for i := range s.InitContainers {
		cpath := fmt.Sprintf("%s.initContainers[%d]", path, i)
		c := &s.InitContainers[i]
		errs = append(errs, validateContainer(cpath, c, volumes)...)
		errs = append(errs, validateContainerRestartPolicy(cpath, c, true)...) // sidecars.go
		if IsSidecar(c) {
			errs = append(errs, validateProbes(cpath, c)...)
			errs = append(errs, validateLifecycle(cpath, c, false)...)
		} else {
			errs = append(errs, validateInitContainer(cpath, c)...)
			errs = append(errs, validateLifecycle(cpath, c, true)...)
		}
		if prev, ok := names[c.Name]; ok && c.Name != "" {
			errs = append(errs, &FieldError{Path: cpath + ".name", Value: c.Name, Detail: "duplicate container name (also " + prev + ")"})
		}
		names[c.Name] = cpath + ".name"
	}
	// One network namespace per pod means one port space: a port claimed
	// twice, in one container or across two, can never bind twice.
	ports := map[string]string{}
	for i := range s.Containers {
		cpath := fmt.Sprintf("%s.containers[%d]", path, i)
		c := &s.Containers[i]
		errs = append(errs, validateContainer(cpath, c, volumes)...)
		errs = append(errs, validateProbes(cpath, c)...)
		errs = append(errs, validateLifecycle(cpath, c, false)...)
		errs = append(errs, validateContainerRestartPolicy(cpath, c, false)...) // sidecars.go
		if prev, ok := names[c.Name]; ok && c.Name != "" {
			errs = append(errs, &FieldError{Path: cpath + ".name", Value: c.Name, Detail: "duplicate container name (also " + prev + ")"})
		}
		names[c.Name] = cpath + ".name"
		for j, port := range c.Ports {
			ppath := fmt.Sprintf("%s.ports[%d].containerPort", cpath, j)
			key := fmt.Sprintf("%d/%s", port.ContainerPort, port.Protocol)
			if prev, ok := ports[key]; ok {
				errs = append(errs, &FieldError{Path: ppath, Value: key,
					Detail: "port already claimed by " + prev + " (the containers of a pod share one port space)"})
				continue
			}
			ports[key] = ppath
		}
	}
	return errs
}

// validateInitContainer adds what only init containers must obey: they run
// to completion, so probes make no sense on them (as in Kubernetes).
func validateInitContainer(path string, c *Container) FieldErrors {
	var errs FieldErrors
	for name, p := range map[string]*Probe{"livenessProbe": c.LivenessProbe, "readinessProbe": c.ReadinessProbe, "startupProbe": c.StartupProbe} {
		if p != nil {
			errs = append(errs, &FieldError{Path: path + "." + name, Detail: "must not be set for init containers"})
		}
	}
	return errs
}

func validateContainer(path string, c *Container, volumes map[string]bool) FieldErrors {
	var errs FieldErrors
	errs = append(errs, validateMounts(path+".volumeMounts", c.VolumeMounts, volumes)...)
	errs = append(errs, validateDNSLabel(path+".name", c.Name)...)
	if strings.TrimSpace(c.Image) == "" {
		errs = append(errs, &FieldError{Path: path + ".image", Detail: "required"})
	}
	switch c.ImagePullPolicy {
	case "Always", "IfNotPresent", "Never":
	default:
		errs = append(errs, &FieldError{Path: path + ".imagePullPolicy", Value: string(c.ImagePullPolicy), Detail: "must be Always, IfNotPresent or Never"})
	}
	for i, e := range c.Env {
		for _, msg := range validation.IsEnvVarName(e.Name) {
			errs = append(errs, &FieldError{Path: fmt.Sprintf("%s.env[%d].name", path, i), Value: e.Name, Detail: msg})
		}
	}
	errs = append(errs, validateEnvSources(path, c)...)                                         // envsources.go
	errs = append(errs, validateSecurityContext(path+".securityContext", c.SecurityContext)...) // security.go
	errs = append(errs, validateNoopContainerFields(path, c)...)                                // noop_fields.go
	portNames := map[string]bool{}
	for i, p := range c.Ports {
		ppath := fmt.Sprintf("%s.ports[%d]", path, i)
		if p.ContainerPort < 1 || p.ContainerPort > 65535 {
			errs = append(errs, &FieldError{Path: ppath + ".containerPort", Value: fmt.Sprint(p.ContainerPort), Detail: "must be between 1 and 65535"})
		}
		switch p.Protocol {
		case "TCP", "UDP", "SCTP":
		default:
			errs = append(errs, &FieldError{Path: ppath + ".protocol", Value: string(p.Protocol), Detail: "must be TCP, UDP or SCTP"})
		}
		if p.Name != "" {
			for _, msg := range validation.IsValidPortName(p.Name) {
				errs = append(errs, &FieldError{Path: ppath + ".name", Value: p.Name, Detail: msg})
			}
			if portNames[p.Name] {
				errs = append(errs, &FieldError{Path: ppath + ".name", Value: p.Name, Detail: "duplicate port name"})
			}
			portNames[p.Name] = true
		}
	}
	errs = append(errs, validateResources(path+".resources", &c.Resources)...)
	return errs
}

var supportedResources = map[ResourceName]bool{ResourceCPU: true, ResourceMemory: true, "ephemeral-storage": true}

func validateResources(path string, r *ResourceRequirements) FieldErrors {
	var errs FieldErrors
	check := func(kind string, rl ResourceList) {
		for name, q := range rl {
			p := path + "." + kind + "." + string(name)
			if !supportedResources[name] {
				errs = append(errs, &FieldError{Path: p, Detail: "unsupported resource (supported: cpu, memory, ephemeral-storage)"})
			}
			if q.Sign() < 0 {
				errs = append(errs, &FieldError{Path: p, Value: q.String(), Detail: "must not be negative"})
			}
		}
	}
	check("requests", r.Requests)
	check("limits", r.Limits)
	for name, req := range r.Requests {
		if lim, ok := r.Limits[name]; ok && req.Cmp(lim) > 0 {
			errs = append(errs, &FieldError{Path: path + ".requests." + string(name), Value: req.String(),
				Detail: "must be less than or equal to the limit " + lim.String()})
		}
	}
	return errs
}

func validateName(path, name string) FieldErrors {
	if name == "" {
		return FieldErrors{{Path: path, Detail: "required"}}
	}
	var errs FieldErrors
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		errs = append(errs, &FieldError{Path: path, Value: name, Detail: msg})
	}
	return errs
}

func validateDNSLabel(path, name string) FieldErrors {
	if name == "" {
		return FieldErrors{{Path: path, Detail: "required"}}
	}
	var errs FieldErrors
	for _, msg := range validation.IsDNS1123Label(name) {
		errs = append(errs, &FieldError{Path: path, Value: name, Detail: msg})
	}
	return errs
}

func validateLabels(path string, labels map[string]string) FieldErrors {
	var errs FieldErrors
	for k, v := range labels {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, &FieldError{Path: path, Value: k, Detail: "key: " + msg})
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			errs = append(errs, &FieldError{Path: path + "." + k, Value: v, Detail: msg})
		}
	}
	return errs
}
