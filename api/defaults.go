package api

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// DefaultNamespace is where objects without a namespace live.
const DefaultNamespace = "default"

// Default fills in what Kubernetes fills in when a manifest leaves it out.
func Default(obj Object) {
	switch o := obj.(type) {
	case *Pod:
		defaultPod(o)
	case *Node:
		o.APIVersion, o.Kind = V1, KindNode
	case *ReplicationController:
		defaultReplicationController(o)
	case *ReplicaSet:
		defaultReplicaSet(o)
	case *Deployment:
		defaultDeployment(o)
	case *DaemonSet:
		defaultDaemonSet(o)
	case *ControllerRevision:
		defaultControllerRevision(o)
	case *Secret:
		defaultSecret(o)
	case *ConfigMap:
		defaultConfigMap(o)
	case *ServiceAccount:
		defaultServiceAccount(o)
	case *Service:
		defaultService(o)
	case *Endpoints:
		defaultEndpoints(o)
	case *EndpointSlice:
		defaultEndpointSlice(o)
	case *Namespace:
		defaultNamespace(o)
	case *Job:
		defaultJob(o)
	case *CronJob:
		defaultCronJob(o)
	case *Lease:
		defaultLease(o)
	case *Event:
		defaultEvent(o)
	}
}

func defaultPod(p *Pod) {
	p.APIVersion, p.Kind = V1, KindPod
	if p.Namespace == "" {
		p.Namespace = DefaultNamespace
	}
	if p.Spec.RestartPolicy == "" {
		p.Spec.RestartPolicy = RestartAlways
	}
	defaultVolumeSources(p.Spec.Volumes) // volumesources.go
	defaultHostPorts(&p.Spec)            // hostnetwork.go
	for i := range p.Spec.InitContainers {
		defaultContainer(&p.Spec.InitContainers[i])
	}
	for i := range p.Spec.Containers {
		defaultContainer(&p.Spec.Containers[i])
	}
}

func defaultContainer(c *Container) {
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	defaultProbe(c.LivenessProbe)
	defaultProbe(c.ReadinessProbe)
	defaultProbe(c.StartupProbe)
	defaultLifecycle(c)  // lifecycle.go
	defaultEnvSources(c) // envsources.go
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = corev1.PullIfNotPresent
		if tag := imageTag(c.Image); tag == "" || tag == "latest" {
			c.ImagePullPolicy = corev1.PullAlways
		}
	}
	// As in Kubernetes, a limit without a request is also the request.
	for name, q := range c.Resources.Limits {
		if _, ok := c.Resources.Requests[name]; !ok {
			if c.Resources.Requests == nil {
				c.Resources.Requests = ResourceList{}
			}
			c.Resources.Requests[name] = q.DeepCopy()
		}
	}
}

// imageTag returns the tag of an image reference, "" when it has none
// (a digest counts as a tag here: it never moves).
func imageTag(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		return ref[i+1:]
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		return ref[i+1:]
	}
	return ""
}
