package api

import (
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Volumes whose files the node writes from the fleet's objects: configMap,
// secret, downwardAPI and projected (of configMaps, secrets and the
// downward API). The node rewrites them when their source changes, swapping
// the whole set at once (podruntime/volumes_data.go), and mounts them
// read-only.
type (
	ConfigMapVolumeSource   = corev1.ConfigMapVolumeSource
	SecretVolumeSource      = corev1.SecretVolumeSource
	DownwardAPIVolumeSource = corev1.DownwardAPIVolumeSource
	DownwardAPIVolumeFile   = corev1.DownwardAPIVolumeFile
	ProjectedVolumeSource   = corev1.ProjectedVolumeSource
	VolumeProjection        = corev1.VolumeProjection
	ConfigMapProjection     = corev1.ConfigMapProjection
	SecretProjection        = corev1.SecretProjection
	DownwardAPIProjection   = corev1.DownwardAPIProjection
	KeyToPath               = corev1.KeyToPath
)

// DefaultVolumeMode is the mode of a projected file when neither the item
// nor the volume gives one (Kubernetes' 0644).
const DefaultVolumeMode int32 = 0o644

// VolumeFieldPaths are the pod fields a downwardAPI volume item may name,
// as Kubernetes allows them for volumes (besides metadata.labels['KEY'] and
// metadata.annotations['KEY']).
var VolumeFieldPaths = []string{"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations"}

// IsDataVolume tells whether the node writes the volume's files from the
// fleet's objects (and mounts it read-only).
func IsDataVolume(v *Volume) bool {
	return v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil || v.Projected != nil
}

// defaultVolumeSources fills in what Kubernetes does: defaultMode 0644,
// a fieldRef's apiVersion v1.
func defaultVolumeSources(vols []Volume) {
	mode := func(m **int32) {
		if *m == nil {
			v := DefaultVolumeMode
			*m = &v
		}
	}
	fieldRefs := func(items []DownwardAPIVolumeFile) {
		for i := range items {
			if f := items[i].FieldRef; f != nil && f.APIVersion == "" {
				f.APIVersion = V1
			}
		}
	}
	for i := range vols {
		v := &vols[i]
		switch {
		case v.ConfigMap != nil:
			mode(&v.ConfigMap.DefaultMode)
		case v.Secret != nil:
			mode(&v.Secret.DefaultMode)
		case v.DownwardAPI != nil:
			mode(&v.DownwardAPI.DefaultMode)
			fieldRefs(v.DownwardAPI.Items)
		case v.Projected != nil:
			mode(&v.Projected.DefaultMode)
			for j := range v.Projected.Sources {
				if d := v.Projected.Sources[j].DownwardAPI; d != nil {
					fieldRefs(d.Items)
				}
			}
		}
	}
}

// validateDataVolume checks a configMap, secret, downwardAPI or projected
// volume and returns how many of those sources it has.
func validateDataVolume(vpath string, v *Volume) (int, FieldErrors) {
	var errs FieldErrors
	n := 0
	if s := v.ConfigMap; s != nil {
		n++
		p := vpath + ".configMap"
		errs = append(errs, validateName(p+".name", s.Name)...)
		errs = append(errs, validateMode(p+".defaultMode", s.DefaultMode)...)
		errs = append(errs, validateKeyItems(p+".items", s.Items)...)
	}
	if s := v.Secret; s != nil {
		n++
		p := vpath + ".secret"
		errs = append(errs, validateName(p+".secretName", s.SecretName)...)
		errs = append(errs, validateMode(p+".defaultMode", s.DefaultMode)...)
		errs = append(errs, validateKeyItems(p+".items", s.Items)...)
	}
	if s := v.DownwardAPI; s != nil {
		n++
		p := vpath + ".downwardAPI"
		errs = append(errs, validateMode(p+".defaultMode", s.DefaultMode)...)
		errs = append(errs, validateDownwardItems(p+".items", s.Items)...)
	}
	if s := v.Projected; s != nil {
		n++
		p := vpath + ".projected"
		errs = append(errs, validateMode(p+".defaultMode", s.DefaultMode)...)
		for i := range s.Sources {
			src := &s.Sources[i]
			sp := fmt.Sprintf("%s.sources[%d]", p, i)
			k := 0
			if c := src.ConfigMap; c != nil {
				k++
				errs = append(errs, validateName(sp+".configMap.name", c.Name)...)
				errs = append(errs, validateKeyItems(sp+".configMap.items", c.Items)...)
			}
			if c := src.Secret; c != nil {
				k++
				errs = append(errs, validateName(sp+".secret.name", c.Name)...)
				errs = append(errs, validateKeyItems(sp+".secret.items", c.Items)...)
			}
			if c := src.DownwardAPI; c != nil {
				k++
				errs = append(errs, validateDownwardItems(sp+".downwardAPI.items", c.Items)...)
			}
			// serviceAccountToken and clusterTrustBundle are refused by
			// name as fields shoal does not support (supported.go).
			if k > 1 {
				errs = append(errs, &FieldError{Path: sp, Detail: fmt.Sprintf("must have exactly one of configMap, secret or downwardAPI, has %d", k)})
			}
		}
	}
	return n, errs
}

func validateMode(p string, m *int32) FieldErrors {
	if m != nil && (*m < 0 || *m > 0o777) {
		return FieldErrors{{Path: p, Value: fmt.Sprintf("%#o", *m), Detail: "must be a file mode between 0 and 0777 (octal), 511 in decimal"}}
	}
	return nil
}

func validateKeyItems(p string, items []KeyToPath) FieldErrors {
	var errs FieldErrors
	for i, it := range items {
		ip := fmt.Sprintf("%s[%d]", p, i)
		errs = append(errs, validateKeyRef(ip+".key", it.Key)...)
		errs = append(errs, validateVolumeFilePath(ip+".path", it.Path)...)
		errs = append(errs, validateMode(ip+".mode", it.Mode)...)
	}
	return errs
}

func validateDownwardItems(p string, items []DownwardAPIVolumeFile) FieldErrors {
	var errs FieldErrors
	for i := range items {
		it := &items[i]
		ip := fmt.Sprintf("%s[%d]", p, i)
		errs = append(errs, validateVolumeFilePath(ip+".path", it.Path)...)
		errs = append(errs, validateMode(ip+".mode", it.Mode)...)
		if it.FieldRef == nil {
			errs = append(errs, &FieldError{Path: ip + ".fieldRef", Detail: "required"})
			continue
		}
		errs = append(errs, validateFieldRef(ip+".fieldRef", it.FieldRef, VolumeFieldPaths)...)
	}
	return errs
}

// validateVolumeFilePath is Kubernetes' rule for a projected file's path:
// relative, no '..' element, not starting with '..'.
func validateVolumeFilePath(p, fp string) FieldErrors {
	switch {
	case fp == "":
		return FieldErrors{{Path: p, Detail: "required"}}
	case path.IsAbs(fp):
		return FieldErrors{{Path: p, Value: fp, Detail: "must be a relative path"}}
	case hasDotDot(fp):
		return FieldErrors{{Path: p, Value: fp, Detail: "must not contain '..'"}}
	case strings.HasPrefix(fp, ".."):
		return FieldErrors{{Path: p, Value: fp, Detail: "must not start with '..'"}}
	}
	return nil
}
