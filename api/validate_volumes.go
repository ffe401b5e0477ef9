package api

import (
	"fmt"
	corev1 "k8s.io/api/core/v1"
	"path"
	"sort"
	"strings"
)

// validateVolumes checks the pod's volumes and returns their names for the
// mounts to be checked against.
func validateVolumes(fpath string, vols []Volume) (FieldErrors, map[string]bool) {
	var errs FieldErrors
	names := map[string]bool{}
	for i := range vols {
		v := &vols[i]
		vpath := fmt.Sprintf("%s[%d]", fpath, i)
		errs = append(errs, validateDNSLabel(vpath+".name", v.Name)...)
		if names[v.Name] && v.Name != "" {
			errs = append(errs, &FieldError{Path: vpath + ".name", Value: v.Name, Detail: "duplicate volume name"})
		}
		names[v.Name] = true
		n := 0
		if v.EmptyDir != nil {
			n++
			errs = append(errs, validateEmptyDir(vpath+".emptyDir", v.EmptyDir)...)
		}
		if v.HostPath != nil {
			n++
			errs = append(errs, validateHostPath(vpath+".hostPath", v.HostPath)...)
		}
		k, dataErrs := validateDataVolume(vpath, v) // volumesources.go
		n += k
		errs = append(errs, dataErrs...)
		if n != 1 {
			errs = append(errs, &FieldError{Path: vpath, Value: v.Name,
				Detail: fmt.Sprintf("must have exactly one volume source (emptyDir, hostPath, configMap, secret, downwardAPI or projected), has %d", n)})
		}
	}
	return errs, names
}

func validateEmptyDir(fpath string, e *EmptyDirVolumeSource) FieldErrors {
	var errs FieldErrors
	switch e.Medium {
	case EmptyDirMediumDefault, EmptyDirMediumMemory:
	default:
		errs = append(errs, &FieldError{Path: fpath + ".medium", Value: string(e.Medium),
			Detail: "not supported by shoal (supported: Memory, or unset for the node's disk)"})
	}
	if e.SizeLimit != nil {
		switch {
		case e.Medium != EmptyDirMediumMemory:
			errs = append(errs, &FieldError{Path: fpath + ".sizeLimit", Value: e.SizeLimit.String(),
				Detail: "not supported by shoal on the node's disk (only with medium: Memory, where it sizes the tmpfs)"})
		case e.SizeLimit.Sign() <= 0:
			errs = append(errs, &FieldError{Path: fpath + ".sizeLimit", Value: e.SizeLimit.String(), Detail: "must be positive"})
		}
	}
	return errs
}

var hostPathTypes = []corev1.HostPathType{HostPathUnset, HostPathDirectoryOrCreate, HostPathDirectory,
	HostPathFileOrCreate, HostPathFile, HostPathSocket, HostPathCharDev, HostPathBlockDev}

func validateHostPath(fpath string, h *HostPathVolumeSource) FieldErrors {
	var errs FieldErrors
	switch {
	case h.Path == "":
		errs = append(errs, &FieldError{Path: fpath + ".path", Detail: "required"})
	case !path.IsAbs(h.Path):
		errs = append(errs, &FieldError{Path: fpath + ".path", Value: h.Path, Detail: "must be an absolute path"})
	case hasDotDot(h.Path):
		errs = append(errs, &FieldError{Path: fpath + ".path", Value: h.Path, Detail: "must not contain '..'"})
	}
	t := HostPathType(h)
	known := false
	for _, k := range hostPathTypes {
		known = known || k == t
	}
	if !known {
		errs = append(errs, &FieldError{Path: fpath + ".type", Value: string(t),
			Detail: "must be one of " + hostPathTypeList() + " or empty"})
	}
	return errs
}

func hostPathTypeList() string {
	names := make([]string, 0, len(hostPathTypes)-1)
	for _, t := range hostPathTypes[1:] {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}

// validateMounts checks a container's volume mounts against the pod's volumes.
func validateMounts(fpath string, mounts []VolumeMount, volumes map[string]bool) FieldErrors {
	var errs FieldErrors
	seen := map[string]bool{}
	for i, m := range mounts {
		mpath := fmt.Sprintf("%s[%d]", fpath, i)
		switch {
		case m.Name == "":
			errs = append(errs, &FieldError{Path: mpath + ".name", Detail: "required"})
		case !volumes[m.Name]:
			errs = append(errs, &FieldError{Path: mpath + ".name", Value: m.Name,
				Detail: "no volume of that name (volumes: " + volumeList(volumes) + ")"})
		}
		switch {
		case m.MountPath == "":
			errs = append(errs, &FieldError{Path: mpath + ".mountPath", Detail: "required"})
		case !path.IsAbs(m.MountPath):
			errs = append(errs, &FieldError{Path: mpath + ".mountPath", Value: m.MountPath, Detail: "must be an absolute path"})
		case seen[path.Clean(m.MountPath)]:
			errs = append(errs, &FieldError{Path: mpath + ".mountPath", Value: m.MountPath, Detail: "must be unique in the container"})
		}
		seen[path.Clean(m.MountPath)] = true
		if m.SubPath != "" {
			if path.IsAbs(m.SubPath) {
				errs = append(errs, &FieldError{Path: mpath + ".subPath", Value: m.SubPath, Detail: "must be a relative path"})
			}
			if hasDotDot(m.SubPath) {
				errs = append(errs, &FieldError{Path: mpath + ".subPath", Value: m.SubPath, Detail: "must not contain '..'"})
			}
		}
	}
	return errs
}

func volumeList(volumes map[string]bool) string {
	names := make([]string, 0, len(volumes))
	for n := range volumes {
		if n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func hasDotDot(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}
