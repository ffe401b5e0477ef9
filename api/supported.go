package api

import (
	"fmt"
	"reflect"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// supportedFields names, per Kubernetes type, the JSON fields shoal
// implements. Every other field of these types is known to Kubernetes (so
// the strict decoder accepts it) but not honoured by shoal: set to anything
// but its zero value it is refused by its path as "not supported by
// shoal", never silently ignored. A zero value (null, an omitted field, a
// typed client's `lastProbeTime: null`) asks for nothing and is accepted.
// Types missing here are leaves (quantities, times, maps of strings) or
// only reachable through a field that is itself unsupported.
var supportedFields = map[reflect.Type][]string{
	reflect.TypeFor[metav1.TypeMeta]():                 {"apiVersion", "kind"},
	reflect.TypeFor[metav1.ObjectMeta]():               {"annotations", "creationTimestamp", "deletionTimestamp", "generateName", "generation", "labels", "managedFields", "name", "namespace", "ownerReferences", "resourceVersion", "uid"},
	reflect.TypeFor[metav1.OwnerReference]():           {"apiVersion", "blockOwnerDeletion", "controller", "kind", "name", "uid"},
	reflect.TypeFor[metav1.LabelSelector]():            {"matchExpressions", "matchLabels"},
	reflect.TypeFor[metav1.LabelSelectorRequirement](): {"key", "operator", "values"},

	reflect.TypeFor[corev1.Pod]():                      {"apiVersion", "kind", "metadata", "spec", "status"},
	reflect.TypeFor[corev1.PodSpec]():                  {"affinity", "containers", "dnsConfig", "dnsPolicy", "securityContext", "topologySpreadConstraints", "hostname", "imagePullSecrets", "initContainers", "nodeName", "nodeSelector", "restartPolicy", "tolerations", "volumes", "serviceAccountName", "serviceAccount", "automountServiceAccountToken"},
	reflect.TypeFor[corev1.Container]():                {"args", "command", "env", "envFrom", "image", "imagePullPolicy", "livenessProbe", "name", "ports", "readinessProbe", "resources", "securityContext", "startupProbe", "volumeMounts", "workingDir"},
	reflect.TypeFor[corev1.PodDNSConfig]():             {"nameservers", "options", "searches"},
	reflect.TypeFor[corev1.PodDNSConfigOption]():       {"name", "value"},
	reflect.TypeFor[corev1.ContainerPort]():            {"containerPort", "name", "protocol"},
	reflect.TypeFor[corev1.EnvVar]():                   {"name", "value", "valueFrom"},
	reflect.TypeFor[corev1.ResourceRequirements]():     {"limits", "requests"},
	reflect.TypeFor[corev1.LocalObjectReference]():     {"name"},
	reflect.TypeFor[corev1.Probe]():                    {"exec", "failureThreshold", "httpGet", "initialDelaySeconds", "periodSeconds", "successThreshold", "tcpSocket", "timeoutSeconds"},
	reflect.TypeFor[corev1.ExecAction]():               {"command"},
	reflect.TypeFor[corev1.HTTPGetAction]():            {"host", "httpHeaders", "path", "port", "scheme"},
	reflect.TypeFor[corev1.HTTPHeader]():               {"name", "value"},
	reflect.TypeFor[corev1.TCPSocketAction]():          {"host", "port"},
	reflect.TypeFor[corev1.Volume]():                   {"configMap", "downwardAPI", "emptyDir", "hostPath", "name", "projected", "secret"},
	reflect.TypeFor[corev1.EmptyDirVolumeSource]():     {"medium", "sizeLimit"},
	reflect.TypeFor[corev1.HostPathVolumeSource]():     {"path", "type"},
	reflect.TypeFor[corev1.VolumeMount]():              {"mountPath", "name", "readOnly", "subPath"},
	reflect.TypeFor[corev1.PodStatus]():                {"conditions", "containerStatuses", "hostIP", "initContainerStatuses", "message", "phase", "podIP", "podIPs", "reason", "startTime"},
	reflect.TypeFor[corev1.PodCondition]():             {"lastTransitionTime", "message", "reason", "status", "type"},
	reflect.TypeFor[corev1.PodIP]():                    {"ip"},
	reflect.TypeFor[corev1.ContainerStatus]():          {"containerID", "image", "imageID", "lastState", "name", "ready", "restartCount", "started", "state"},
	reflect.TypeFor[corev1.ContainerState]():           {"running", "terminated", "waiting"},
	reflect.TypeFor[corev1.ContainerStateWaiting]():    {"message", "reason"},
	reflect.TypeFor[corev1.ContainerStateRunning]():    {"startedAt"},
	reflect.TypeFor[corev1.ContainerStateTerminated](): {"containerID", "exitCode", "finishedAt", "message", "reason", "signal", "startedAt"},

	reflect.TypeFor[corev1.Node]():           {"apiVersion", "kind", "metadata", "spec", "status"},
	reflect.TypeFor[corev1.NodeSpec]():       {"podCIDR", "podCIDRs", "taints", "unschedulable"},
	reflect.TypeFor[corev1.Taint]():          {"effect", "key", "timeAdded", "value"},
	reflect.TypeFor[corev1.Toleration]():     {"effect", "key", "operator", "tolerationSeconds", "value"},
	reflect.TypeFor[corev1.NodeStatus]():     {"addresses", "allocatable", "capacity", "conditions", "nodeInfo"},
	reflect.TypeFor[corev1.NodeAddress]():    {"address", "type"},
	reflect.TypeFor[corev1.NodeCondition]():  {"lastHeartbeatTime", "lastTransitionTime", "message", "reason", "status", "type"},
	reflect.TypeFor[corev1.NodeSystemInfo](): {"architecture", "containerRuntimeVersion", "kubeletVersion", "operatingSystem"},

	reflect.TypeFor[corev1.ReplicationController]():       {"apiVersion", "kind", "metadata", "spec", "status"},
	reflect.TypeFor[corev1.ReplicationControllerSpec]():   {"minReadySeconds", "replicas", "selector", "template"},
	reflect.TypeFor[corev1.ReplicationControllerStatus](): {"availableReplicas", "fullyLabeledReplicas", "observedGeneration", "readyReplicas", "replicas"},
	reflect.TypeFor[corev1.PodTemplateSpec]():             {"metadata", "spec"},
	reflect.TypeFor[appsv1.ReplicaSet]():                  {"apiVersion", "kind", "metadata", "spec", "status"},
	reflect.TypeFor[appsv1.ReplicaSetSpec]():              {"minReadySeconds", "replicas", "selector", "template"},
	reflect.TypeFor[appsv1.ReplicaSetStatus]():            {"availableReplicas", "fullyLabeledReplicas", "observedGeneration", "readyReplicas", "replicas"},
	reflect.TypeFor[appsv1.Deployment]():                  {"apiVersion", "kind", "metadata", "spec", "status"},
	reflect.TypeFor[appsv1.DeploymentSpec]():              {"minReadySeconds", "paused", "progressDeadlineSeconds", "replicas", "revisionHistoryLimit", "selector", "strategy", "template"},
	reflect.TypeFor[appsv1.DeploymentStrategy]():          {"rollingUpdate", "type"},
	reflect.TypeFor[appsv1.RollingUpdateDeployment]():     {"maxSurge", "maxUnavailable"},
	reflect.TypeFor[appsv1.DeploymentStatus]():            {"availableReplicas", "conditions", "observedGeneration", "readyReplicas", "replicas", "unavailableReplicas", "updatedReplicas"},
	reflect.TypeFor[appsv1.DeploymentCondition]():         {"lastTransitionTime", "lastUpdateTime", "message", "reason", "status", "type"},
	reflect.TypeFor[autoscalingv1.Scale]():                {"apiVersion", "kind", "metadata", "spec", "status"},
	reflect.TypeFor[autoscalingv1.ScaleSpec]():            {"replicas"},
	reflect.TypeFor[autoscalingv1.ScaleStatus]():          {"replicas", "selector"},

	// DaemonSets: daemonset.go. maxSurge is accepted at 0 only.
	reflect.TypeFor[appsv1.DaemonSet]():               {"apiVersion", "kind", "metadata", "spec", "status"},
	reflect.TypeFor[appsv1.DaemonSetSpec]():           {"minReadySeconds", "revisionHistoryLimit", "selector", "template", "updateStrategy"},
	reflect.TypeFor[appsv1.DaemonSetUpdateStrategy](): {"rollingUpdate", "type"},
	reflect.TypeFor[appsv1.RollingUpdateDaemonSet]():  {"maxSurge", "maxUnavailable"},
	reflect.TypeFor[appsv1.DaemonSetStatus]():         {"currentNumberScheduled", "desiredNumberScheduled", "numberAvailable", "numberMisscheduled", "numberReady", "numberUnavailable", "observedGeneration", "updatedNumberScheduled"},
	reflect.TypeFor[appsv1.ControllerRevision]():      {"apiVersion", "data", "kind", "metadata", "revision"},

	reflect.TypeFor[corev1.Secret](): {"apiVersion", "data", "immutable", "kind", "metadata", "stringData", "type"},
	// ConfigMaps: configmap.go; how containers read them: envsources.go,
	// volumesources.go.
	reflect.TypeFor[corev1.EnvVarSource]():            {"configMapKeyRef", "fieldRef", "resourceFieldRef", "secretKeyRef"},
	reflect.TypeFor[corev1.ConfigMapKeySelector]():    {"key", "name", "optional"},
	reflect.TypeFor[corev1.SecretKeySelector]():       {"key", "name", "optional"},
	reflect.TypeFor[corev1.ObjectFieldSelector]():     {"apiVersion", "fieldPath"},
	reflect.TypeFor[corev1.ResourceFieldSelector]():   {"containerName", "divisor", "resource"},
	reflect.TypeFor[corev1.ConfigMapVolumeSource]():   {"defaultMode", "items", "name", "optional"},
	reflect.TypeFor[corev1.SecretVolumeSource]():      {"defaultMode", "items", "optional", "secretName"},
	reflect.TypeFor[corev1.KeyToPath]():               {"key", "mode", "path"},
	reflect.TypeFor[corev1.DownwardAPIVolumeSource](): {"defaultMode", "items"},
	reflect.TypeFor[corev1.DownwardAPIVolumeFile]():   {"fieldRef", "mode", "path"},
	reflect.TypeFor[corev1.ProjectedVolumeSource]():   {"defaultMode", "sources"},
	reflect.TypeFor[corev1.VolumeProjection]():        {"configMap", "downwardAPI", "secret"},
	reflect.TypeFor[corev1.ConfigMapProjection]():     {"items", "name", "optional"},
	reflect.TypeFor[corev1.SecretProjection]():        {"items", "name", "optional"},
	reflect.TypeFor[corev1.DownwardAPIProjection]():   {"items"},
	reflect.TypeFor[corev1.EnvFromSource]():           {"configMapRef", "prefix", "secretRef"},
	reflect.TypeFor[corev1.ConfigMapEnvSource]():      {"name", "optional"},
	reflect.TypeFor[corev1.SecretEnvSource]():         {"name", "optional"},
	reflect.TypeFor[corev1.ConfigMap]():               {"apiVersion", "binaryData", "data", "immutable", "kind", "metadata"},

	// Services: service.go. The policies and families are accepted with
	// the values Kubernetes fills in (validation refuses the others by
	// value); status holds nothing shoal sets.
	reflect.TypeFor[corev1.Service]():               {"apiVersion", "kind", "metadata", "spec", "status"},
	reflect.TypeFor[corev1.ServiceSpec]():           {"clusterIP", "clusterIPs", "externalIPs", "externalTrafficPolicy", "internalTrafficPolicy", "ipFamilies", "ipFamilyPolicy", "ports", "selector", "sessionAffinity", "sessionAffinityConfig", "type"},
	reflect.TypeFor[corev1.ServicePort]():           {"name", "nodePort", "port", "protocol", "targetPort"},
	reflect.TypeFor[corev1.SessionAffinityConfig](): {"clientIP"},
	reflect.TypeFor[corev1.ClientIPConfig]():        {"timeoutSeconds"},
	reflect.TypeFor[corev1.ServiceStatus]():         {"loadBalancer"},
	reflect.TypeFor[corev1.LoadBalancerStatus]():    {},

	// Endpoints and EndpointSlices: endpoints.go.
	//lint:ignore SA1019 v1 Endpoints is deprecated by Kubernetes and served on purpose, for older clients.
	reflect.TypeFor[corev1.Endpoints](): {"apiVersion", "kind", "metadata", "subsets"},
	//lint:ignore SA1019 part of v1 Endpoints, served on purpose.
	reflect.TypeFor[corev1.EndpointSubset]():          {"addresses", "notReadyAddresses", "ports"},
	reflect.TypeFor[corev1.EndpointAddress]():         {"hostname", "ip", "nodeName", "targetRef"},
	reflect.TypeFor[corev1.EndpointPort]():            {"name", "port", "protocol"},
	reflect.TypeFor[corev1.ObjectReference]():         {"apiVersion", "fieldPath", "kind", "name", "namespace", "resourceVersion", "uid"},
	reflect.TypeFor[discoveryv1.EndpointSlice]():      {"addressType", "apiVersion", "endpoints", "kind", "metadata", "ports"},
	reflect.TypeFor[discoveryv1.Endpoint]():           {"addresses", "conditions", "hostname", "nodeName", "targetRef"},
	reflect.TypeFor[discoveryv1.EndpointConditions](): {"ready", "serving", "terminating"},
	reflect.TypeFor[discoveryv1.EndpointPort]():       {"name", "port", "protocol"},

	// Namespaces: namespace.go.
	reflect.TypeFor[corev1.Namespace]():       {"apiVersion", "kind", "metadata", "spec", "status"},
	reflect.TypeFor[corev1.NamespaceSpec]():   {"finalizers"},
	reflect.TypeFor[corev1.NamespaceStatus](): {"phase"},
	// Jobs: job.go. Indexed completion, pod failure and success policies,
	// suspension and the per-index limits are not supported.
	reflect.TypeFor[batchv1.Job]():          {"apiVersion", "kind", "metadata", "spec", "status"},
	reflect.TypeFor[batchv1.JobSpec]():      {"activeDeadlineSeconds", "backoffLimit", "completionMode", "completions", "manualSelector", "parallelism", "selector", "template", "ttlSecondsAfterFinished"},
	reflect.TypeFor[batchv1.JobStatus]():    {"active", "completionTime", "conditions", "failed", "ready", "startTime", "succeeded"},
	reflect.TypeFor[batchv1.JobCondition](): {"lastProbeTime", "lastTransitionTime", "message", "reason", "status", "type"},
	// CronJobs: cronjob.go. Schedules run in UTC: timeZone is not supported.
	reflect.TypeFor[batchv1.CronJob]():         {"apiVersion", "kind", "metadata", "spec", "status"},
	reflect.TypeFor[batchv1.CronJobSpec]():     {"concurrencyPolicy", "failedJobsHistoryLimit", "jobTemplate", "schedule", "startingDeadlineSeconds", "successfulJobsHistoryLimit", "suspend"},
	reflect.TypeFor[batchv1.JobTemplateSpec](): {"metadata", "spec"},
	reflect.TypeFor[batchv1.CronJobStatus]():   {"active", "lastScheduleTime", "lastSuccessfulTime"},
	// Node and pod affinity, topology spreading: affinity.go.
	reflect.TypeFor[corev1.Affinity]():                 {"nodeAffinity", "podAffinity", "podAntiAffinity"},
	reflect.TypeFor[corev1.PodAffinity]():              {"preferredDuringSchedulingIgnoredDuringExecution", "requiredDuringSchedulingIgnoredDuringExecution"},
	reflect.TypeFor[corev1.PodAntiAffinity]():          {"preferredDuringSchedulingIgnoredDuringExecution", "requiredDuringSchedulingIgnoredDuringExecution"},
	reflect.TypeFor[corev1.PodAffinityTerm]():          {"labelSelector", "namespaces", "topologyKey"},
	reflect.TypeFor[corev1.WeightedPodAffinityTerm]():  {"podAffinityTerm", "weight"},
	reflect.TypeFor[corev1.TopologySpreadConstraint](): {"labelSelector", "matchLabelKeys", "maxSkew", "topologyKey", "whenUnsatisfiable"},
	reflect.TypeFor[corev1.NodeAffinity]():             {"preferredDuringSchedulingIgnoredDuringExecution", "requiredDuringSchedulingIgnoredDuringExecution"},
	reflect.TypeFor[corev1.NodeSelector]():             {"nodeSelectorTerms"},
	reflect.TypeFor[corev1.NodeSelectorTerm]():         {"matchExpressions", "matchFields"},
	reflect.TypeFor[corev1.NodeSelectorRequirement]():  {"key", "operator", "values"},
	reflect.TypeFor[corev1.PreferredSchedulingTerm]():  {"preference", "weight"},

	// Security contexts: security.go.
	reflect.TypeFor[corev1.PodSecurityContext](): {"fsGroup", "runAsGroup", "runAsNonRoot", "runAsUser", "seccompProfile", "supplementalGroups"},
	reflect.TypeFor[corev1.SecurityContext](): {"allowPrivilegeEscalation", "capabilities", "privileged", "readOnlyRootFilesystem",
		"runAsGroup", "runAsNonRoot", "runAsUser", "seccompProfile"},
	reflect.TypeFor[corev1.Capabilities]():   {"add", "drop"},
	reflect.TypeFor[corev1.SeccompProfile](): {"type"},

	// Events: event.go.
	reflect.TypeFor[corev1.Event](): {"action", "apiVersion", "count", "eventTime", "firstTimestamp", "involvedObject", "kind",
		"lastTimestamp", "message", "metadata", "reason", "related", "reportingComponent", "reportingInstance", "series", "source", "type"},
	reflect.TypeFor[corev1.EventSource](): {"component", "host"},
	reflect.TypeFor[corev1.EventSeries](): {"count", "lastObservedTime"},

	// Leases: lease.go.
	reflect.TypeFor[coordinationv1.Lease]():     {"apiVersion", "kind", "metadata", "spec"},
	reflect.TypeFor[coordinationv1.LeaseSpec](): {"acquireTime", "holderIdentity", "leaseDurationSeconds", "leaseTransitions", "renewTime"},
	// ServiceAccounts: serviceaccount.go. Legacy token Secrets are not made.
	reflect.TypeFor[corev1.ServiceAccount](): {"apiVersion", "automountServiceAccountToken", "imagePullSecrets", "kind", "metadata"},
}

// supportedSets is supportedFields as sets, built once.
var supportedSets = func() map[reflect.Type]map[string]bool {
	out := make(map[reflect.Type]map[string]bool, len(supportedFields))
	for _, fields := range []map[reflect.Type][]string{supportedFields, lifecycleFields, noopFields, sidecarFields, hostNetworkFields} {
		for t, names := range fields {
			set := out[t]
			if set == nil {
				set = make(map[string]bool, len(names))
				out[t] = set
			}
			for _, n := range names {
				set[n] = true
			}
		}
	}
	return out
}()

// checkSupported refuses, by path, every field of obj that is set but not
// supported by shoal.
func checkSupported(obj any) error {
	var errs FieldErrors
	walkSupported("", reflect.ValueOf(obj), &errs)
	return errs.orNil()
}

func walkSupported(path string, v reflect.Value, errs *FieldErrors) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkSupported(path, v.Elem(), errs)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkSupported(fmt.Sprintf("%s[%d]", path, i), v.Index(i), errs)
		}
	case reflect.Struct:
		allowed, ok := supportedSets[v.Type()]
		if !ok {
			return // a leaf: shoal takes it whole
		}
		walkStructFields(path, v, allowed, errs)
	}
}

func walkStructFields(path string, v reflect.Value, allowed map[string]bool, errs *FieldErrors) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		fv := v.Field(i)
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
			// Inline members (TypeMeta, ProbeHandler, VolumeSource) are
			// judged by the type that inlines them.
			if inner, ok := supportedSets[f.Type]; ok {
				walkStructFields(path, fv, inner, errs)
			} else {
				walkStructFields(path, fv, allowed, errs)
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		if !allowed[name] {
			if !fv.IsZero() {
				*errs = append(*errs, &FieldError{Path: join(path, name), Detail: "not supported by shoal"})
			}
			continue
		}
		walkSupported(join(path, name), fv, errs)
	}
}

func join(path, key string) string {
	// An empty key would vanish from the path and leave the error naming
	// nothing (`: unknown field`); quote it instead.
	if key == "" {
		return path + `[""]`
	}
	if path == "" {
		return key
	}
	return path + "." + key
}
