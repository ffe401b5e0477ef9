package api

import "k8s.io/apimachinery/pkg/api/resource"

// Volume is a pod-level volume that any container of the pod may mount by
// name; exactly one source must be set.
type Volume struct {
	Name         string `json:"name"`
	VolumeSource `json:",inline"`
}

// VolumeSource holds the kinds of volume shoal supports.
type VolumeSource struct {
	EmptyDir *EmptyDirVolumeSource `json:"emptyDir,omitempty"`
	HostPath *HostPathVolumeSource `json:"hostPath,omitempty"`
}

// EmptyDirVolumeSource is a directory made with the pod and removed with it;
// with medium Memory it is a tmpfs, sized by SizeLimit.
type EmptyDirVolumeSource struct {
	Medium    string             `json:"medium,omitempty"`
	SizeLimit *resource.Quantity `json:"sizeLimit,omitempty"`
}

// HostPathVolumeSource is a path on the node.
type HostPathVolumeSource struct {
	Path string  `json:"path"`
	Type *string `json:"type,omitempty"`
}

// emptyDir media: the node's disk, or a tmpfs (RAM).
const (
	EmptyDirMediumDefault = ""
	EmptyDirMediumMemory  = "Memory"
)

// hostPath types, as in Kubernetes. The empty type checks nothing.
const (
	HostPathUnset             = ""
	HostPathDirectoryOrCreate = "DirectoryOrCreate"
	HostPathDirectory         = "Directory"
	HostPathFileOrCreate      = "FileOrCreate"
	HostPathFile              = "File"
	HostPathSocket            = "Socket"
	HostPathCharDev           = "CharDevice"
	HostPathBlockDev          = "BlockDevice"
)

// VolumeMount mounts a pod volume (or a sub path of it) into a container.
type VolumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
	SubPath   string `json:"subPath,omitempty"`
}

// HostPathType returns the hostPath's type, "" when unset.
func (h *HostPathVolumeSource) HostPathType() string {
	if h == nil || h.Type == nil {
		return HostPathUnset
	}
	return *h.Type
}
