package api

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Object is a resource shoal stores: a Kubernetes object with TypeMeta and
// ObjectMeta (every served kind's pointer type satisfies it).
type Object interface {
	runtime.Object
	metav1.Object
}

// MetaOf returns obj's metadata, to read or change in place.
func MetaOf(obj Object) *ObjectMeta {
	m, ok := obj.(metav1.ObjectMetaAccessor)
	if !ok {
		panic(fmt.Sprintf("api: %T has no ObjectMeta", obj))
	}
	return m.GetObjectMeta().(*ObjectMeta)
}

// TypeMetaOf returns obj's apiVersion and kind, to read or change in place.
func TypeMetaOf(obj runtime.Object) *TypeMeta {
	tm, ok := obj.GetObjectKind().(*TypeMeta)
	if !ok {
		panic(fmt.Sprintf("api: %T has no TypeMeta", obj))
	}
	return tm
}

// Key is the store key of a namespaced object: "namespace/name".
func Key(namespace, name string) string { return namespace + "/" + name }

// KeyOf returns an object's store key.
func KeyOf(obj metav1.Object) string { return Key(obj.GetNamespace(), obj.GetName()) }

// Kinds and API versions of the served objects.
const (
	KindPod                   = "Pod"
	KindNode                  = "Node"
	KindSecret                = "Secret"
	KindReplicationController = "ReplicationController"
	KindReplicaSet            = "ReplicaSet"
	KindService               = "Service"
	KindEndpoints             = "Endpoints"
	KindEndpointSlice         = "EndpointSlice"
	V1                        = "v1"
	AppsV1                    = "apps/v1"
	DiscoveryV1               = "discovery.k8s.io/v1"
)

// newObject returns an empty object for a document's apiVersion and kind.
func newObject(tm TypeMeta) (Object, error) {
	switch {
	case tm.Kind == KindPod && tm.APIVersion == V1:
		return &Pod{}, nil
	case tm.Kind == KindNode && tm.APIVersion == V1:
		return &Node{}, nil
	case tm.Kind == KindReplicationController && tm.APIVersion == V1:
		return &ReplicationController{}, nil
	case tm.Kind == KindReplicaSet && tm.APIVersion == AppsV1:
		return &ReplicaSet{}, nil
	case tm.Kind == KindDeployment && tm.APIVersion == AppsV1:
		return &Deployment{}, nil
	case tm.Kind == KindDaemonSet && tm.APIVersion == AppsV1:
		return &DaemonSet{}, nil
	case tm.Kind == KindControllerRevision && tm.APIVersion == AppsV1:
		return &ControllerRevision{}, nil
	case tm.Kind == KindSecret && tm.APIVersion == V1:
		return &Secret{}, nil
	case tm.Kind == KindConfigMap && tm.APIVersion == V1:
		return &ConfigMap{}, nil
	case tm.Kind == KindServiceAccount && tm.APIVersion == V1:
		return &ServiceAccount{}, nil
	case tm.Kind == KindService && tm.APIVersion == V1:
		return &Service{}, nil
	case tm.Kind == KindEndpoints && tm.APIVersion == V1:
		return &Endpoints{}, nil
	case tm.Kind == KindEndpointSlice && tm.APIVersion == DiscoveryV1:
		return &EndpointSlice{}, nil
	case tm.Kind == KindNamespace && tm.APIVersion == V1:
		return &Namespace{}, nil
	case tm.Kind == KindJob && tm.APIVersion == BatchV1:
		return &Job{}, nil
	case tm.Kind == KindCronJob && tm.APIVersion == BatchV1:
		return &CronJob{}, nil
	case tm.Kind == KindLease && tm.APIVersion == CoordinationV1:
		return &Lease{}, nil
	case tm.Kind == "":
		return nil, &FieldError{Path: "kind", Detail: "required"}
	case tm.APIVersion == "":
		return nil, &FieldError{Path: "apiVersion", Detail: "required"}
	}
	return nil, &FieldError{Path: "kind", Value: tm.APIVersion + "/" + tm.Kind,
		Detail: "unsupported kind (supported: v1/Pod, v1/Node, v1/ReplicationController, apps/v1/ReplicaSet, apps/v1/Deployment, apps/v1/DaemonSet, apps/v1/ControllerRevision, v1/Secret, v1/ConfigMap, v1/ServiceAccount, v1/Service, v1/Endpoints, discovery.k8s.io/v1/EndpointSlice, v1/Namespace, batch/v1/Job, batch/v1/CronJob, coordination.k8s.io/v1/Lease, v1/List)"}
}
