package api

import "reflect"

// unsupportedFields lists Kubernetes fields that shoal knows but does not
// implement, per type that Kubernetes puts them on, so that a manifest using
// them is told "not supported by shoal" instead of "unknown field": the user
// wrote nothing wrong for Kubernetes, shoal just cannot honour it.
func unsupportedFields(t reflect.Type) []string {
	switch t {
	case reflect.TypeOf(PodSpec{}):
		return []string{"activeDeadlineSeconds", "affinity", "automountServiceAccountToken",
			"dnsConfig", "dnsPolicy", "enableServiceLinks", "ephemeralContainers", "hostAliases",
			"hostIPC", "hostNetwork", "hostPID", "hostUsers", "os", "overhead",
			"preemptionPolicy", "priority", "priorityClassName", "readinessGates", "resourceClaims",
			"runtimeClassName", "schedulerName", "schedulingGates", "securityContext",
			"serviceAccount", "serviceAccountName", "setHostnameAsFQDN", "shareProcessNamespace",
			"subdomain", "terminationGracePeriodSeconds", "tolerations", "topologySpreadConstraints"}
	case reflect.TypeOf(Container{}):
		return []string{"envFrom", "lifecycle", "resizePolicy", "restartPolicy", "securityContext",
			"stdin", "stdinOnce", "terminationMessagePath", "terminationMessagePolicy", "tty",
			"volumeDevices"}
	case reflect.TypeOf(EnvVar{}):
		return []string{"valueFrom"}
	case reflect.TypeOf(Volume{}):
		return []string{"awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder",
			"configMap", "csi", "downwardAPI", "ephemeral", "fc", "flexVolume", "flocker",
			"gcePersistentDisk", "gitRepo", "glusterfs", "image", "iscsi", "nfs",
			"persistentVolumeClaim", "photonPersistentDisk", "portworxVolume", "projected",
			"quobyte", "rbd", "scaleIO", "secret", "storageos", "vsphereVolume"}
	case reflect.TypeOf(VolumeMount{}):
		return []string{"mountPropagation", "recursiveReadOnly", "subPathExpr"}
	case reflect.TypeOf(Probe{}):
		return []string{"grpc", "terminationGracePeriodSeconds"}
	case reflect.TypeOf(ContainerPort{}):
		return []string{"hostIP", "hostPort"}
	}
	return nil
}

// unknownFieldDetail is the message for a key the type has no field for.
func unknownFieldDetail(t reflect.Type, key string) string {
	for _, f := range unsupportedFields(t) {
		if f == key {
			return "not supported by shoal"
		}
	}
	return "unknown field"
}
