package api

import corev1 "k8s.io/api/core/v1"

// emptyDir media: the node's disk, or a tmpfs (RAM).
const (
	EmptyDirMediumDefault = corev1.StorageMediumDefault
	EmptyDirMediumMemory  = corev1.StorageMediumMemory
)

// hostPath types, as in Kubernetes. The empty type checks nothing.
const (
	HostPathUnset             = corev1.HostPathUnset
	HostPathDirectoryOrCreate = corev1.HostPathDirectoryOrCreate
	HostPathDirectory         = corev1.HostPathDirectory
	HostPathFileOrCreate      = corev1.HostPathFileOrCreate
	HostPathFile              = corev1.HostPathFile
	HostPathSocket            = corev1.HostPathSocket
	HostPathCharDev           = corev1.HostPathCharDev
	HostPathBlockDev          = corev1.HostPathBlockDev
)

// HostPathType returns the hostPath's type, "" when unset.
func HostPathType(h *HostPathVolumeSource) corev1.HostPathType {
	if h == nil || h.Type == nil {
		return HostPathUnset
	}
	return *h.Type
}
