package api

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The served kinds are Kubernetes' own types: the names below are aliases,
// so that what shoal stores, serves and decodes is exactly what kubectl and
// client-go send, and the JSON (and protobuf) shape is Kubernetes' own.
// What is shoal's own lives beside them: which fields it supports
// (supported.go), defaults, validation and the scheme (scheme.go).

// Object metadata.
type (
	TypeMeta        = metav1.TypeMeta
	ObjectMeta      = metav1.ObjectMeta
	OwnerReference  = metav1.OwnerReference
	ListMeta        = metav1.ListMeta
	LabelSelector   = metav1.LabelSelector
	Status          = metav1.Status
	StatusDetails   = metav1.StatusDetails
	StatusCause     = metav1.StatusCause
	ObjectReference = corev1.ObjectReference

	LabelSelectorRequirement = metav1.LabelSelectorRequirement
	LocalObjectReference     = corev1.LocalObjectReference
)

// Pods.
type (
	Pod                      = corev1.Pod
	PodList                  = corev1.PodList
	PodSpec                  = corev1.PodSpec
	PodStatus                = corev1.PodStatus
	PodCondition             = corev1.PodCondition
	PodIP                    = corev1.PodIP
	PodTemplateSpec          = corev1.PodTemplateSpec
	Container                = corev1.Container
	ContainerPort            = corev1.ContainerPort
	EnvVar                   = corev1.EnvVar
	ResourceList             = corev1.ResourceList
	ResourceName             = corev1.ResourceName
	ResourceRequirements     = corev1.ResourceRequirements
	ContainerStatus          = corev1.ContainerStatus
	ContainerState           = corev1.ContainerState
	ContainerStateWaiting    = corev1.ContainerStateWaiting
	ContainerStateRunning    = corev1.ContainerStateRunning
	ContainerStateTerminated = corev1.ContainerStateTerminated
	Probe                    = corev1.Probe
	ProbeHandler             = corev1.ProbeHandler
	ExecAction               = corev1.ExecAction
	HTTPGetAction            = corev1.HTTPGetAction
	HTTPHeader               = corev1.HTTPHeader
	TCPSocketAction          = corev1.TCPSocketAction
	Volume                   = corev1.Volume
	VolumeSource             = corev1.VolumeSource
	VolumeMount              = corev1.VolumeMount
	EmptyDirVolumeSource     = corev1.EmptyDirVolumeSource
	HostPathVolumeSource     = corev1.HostPathVolumeSource
	PodPhase                 = corev1.PodPhase
	RestartPolicy            = corev1.RestartPolicy
	ConditionStatus          = corev1.ConditionStatus
)

// Nodes.
type (
	Node           = corev1.Node
	NodeList       = corev1.NodeList
	NodeSpec       = corev1.NodeSpec
	NodeStatus     = corev1.NodeStatus
	NodeAddress    = corev1.NodeAddress
	NodeCondition  = corev1.NodeCondition
	NodeSystemInfo = corev1.NodeSystemInfo
)

// Controllers, secrets, events.
type (
	ReplicationController       = corev1.ReplicationController
	ReplicationControllerList   = corev1.ReplicationControllerList
	ReplicationControllerSpec   = corev1.ReplicationControllerSpec
	ReplicationControllerStatus = corev1.ReplicationControllerStatus
	ReplicaSet                  = appsv1.ReplicaSet
	ReplicaSetList              = appsv1.ReplicaSetList
	ReplicaSetSpec              = appsv1.ReplicaSetSpec
	ReplicaSetStatus            = appsv1.ReplicaSetStatus
	Scale                       = autoscalingv1.Scale
	ScaleSpec                   = autoscalingv1.ScaleSpec
	ScaleStatus                 = autoscalingv1.ScaleStatus
	Secret                      = corev1.Secret
	SecretList                  = corev1.SecretList
	Event                       = corev1.Event
	EventList                   = corev1.EventList
	EventSource                 = corev1.EventSource
)

// Namespaces: namespace.go.
type (
	Namespace     = corev1.Namespace
	NamespaceList = corev1.NamespaceList
)

// Services and their endpoints.
type (
	Service               = corev1.Service
	ServiceList           = corev1.ServiceList
	ServiceSpec           = corev1.ServiceSpec
	ServicePort           = corev1.ServicePort
	ServiceStatus         = corev1.ServiceStatus
	ServiceType           = corev1.ServiceType
	SessionAffinityConfig = corev1.SessionAffinityConfig
	ClientIPConfig        = corev1.ClientIPConfig
	//lint:ignore SA1019 v1 Endpoints is deprecated by Kubernetes and served on purpose, for older clients.
	Endpoints     = corev1.Endpoints
	EndpointsList = corev1.EndpointsList
	//lint:ignore SA1019 part of v1 Endpoints, served on purpose.
	EndpointSubset    = corev1.EndpointSubset
	EndpointAddress   = corev1.EndpointAddress
	EndpointPort      = corev1.EndpointPort
	EndpointSlice     = discoveryv1.EndpointSlice
	EndpointSliceList = discoveryv1.EndpointSliceList
	SliceEndpoint     = discoveryv1.Endpoint
	SliceConditions   = discoveryv1.EndpointConditions
	SlicePort         = discoveryv1.EndpointPort
)

// Resource names shoal places on.
const (
	ResourceCPU    = corev1.ResourceCPU
	ResourceMemory = corev1.ResourceMemory
	ResourcePods   = corev1.ResourcePods
)

// Restart policies.
const (
	RestartAlways    = corev1.RestartPolicyAlways
	RestartOnFailure = corev1.RestartPolicyOnFailure
	RestartNever     = corev1.RestartPolicyNever
)

// LabelServerRole marks the node of an agent that holds a Raft seat: the
// leader's node registration sets it, the API's node roles read it.
const LabelServerRole = "node-role.shoal.dev/server"

// Annotations a node carries when it is read, computed from the state and
// the Raft seat at that moment and never stored: what `shoal get nodes`
// and kubectl's node Table show as roles and allocation
// (agent/apiserver/node_view.go). Kubernetes keeps allocation out of the
// Node object (kubectl describe sums the pods); a fleet without a control
// plane answers it where the state is.
const (
	// AnnotationRoles is "server,leader", "server" or "client".
	AnnotationRoles = "shoal.dev/roles"
	// AnnotationAllocatedCPU and AnnotationAllocatedMemory sum the
	// requests of the node's bound, unfinished pods: what placement
	// counts as taken.
	AnnotationAllocatedCPU    = "shoal.dev/allocated-cpu"
	AnnotationAllocatedMemory = "shoal.dev/allocated-memory"
	// AnnotationPods counts those pods.
	AnnotationPods = "shoal.dev/pods"
)

// Node condition and address types the printers and placement read.
const (
	NodeReady      = corev1.NodeReady
	NodeInternalIP = corev1.NodeInternalIP
	NodeExternalIP = corev1.NodeExternalIP
)

// DNS policies shoal accepts (api/validate.go).
const (
	DNSClusterFirst            = corev1.DNSClusterFirst
	DNSClusterFirstWithHostNet = corev1.DNSClusterFirstWithHostNet
	DNSDefault                 = corev1.DNSDefault
)

// Pod phases.
const (
	PodPending   = corev1.PodPending
	PodRunning   = corev1.PodRunning
	PodSucceeded = corev1.PodSucceeded
	PodFailed    = corev1.PodFailed
	PodUnknown   = corev1.PodUnknown
)

// Condition statuses.
const (
	ConditionTrue    = corev1.ConditionTrue
	ConditionFalse   = corev1.ConditionFalse
	ConditionUnknown = corev1.ConditionUnknown
)

// Event types.
const (
	EventNormal  = corev1.EventTypeNormal
	EventWarning = corev1.EventTypeWarning
)

// Kubernetes' typed strings, named here so callers need not import core/v1.
type (
	UID               = types.UID
	PodConditionType  = corev1.PodConditionType
	NodeConditionType = corev1.NodeConditionType
	NodeAddressType   = corev1.NodeAddressType
	PullPolicy        = corev1.PullPolicy
	Protocol          = corev1.Protocol
	HostPathTypeName  = corev1.HostPathType
	StorageMedium     = corev1.StorageMedium
	URIScheme         = corev1.URIScheme
	SecretType        = corev1.SecretType
	StatusReason      = metav1.StatusReason
	CauseType         = metav1.CauseType
)
