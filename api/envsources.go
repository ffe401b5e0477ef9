package api

import (
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Where a container's environment comes from beyond literal values:
// env[].valueFrom (a key of a ConfigMap or Secret, a field of the pod, a
// resource of the container) and envFrom (every key of a ConfigMap or
// Secret). The node resolves them when it creates the container, as the
// kubelet does (podruntime/env.go): a later change of the ConfigMap does
// not reach a running container.
type (
	EnvVarSource          = corev1.EnvVarSource
	EnvFromSource         = corev1.EnvFromSource
	ConfigMapKeySelector  = corev1.ConfigMapKeySelector
	SecretKeySelector     = corev1.SecretKeySelector
	ObjectFieldSelector   = corev1.ObjectFieldSelector
	ResourceFieldSelector = corev1.ResourceFieldSelector
	ConfigMapEnvSource    = corev1.ConfigMapEnvSource
	SecretEnvSource       = corev1.SecretEnvSource
)

// EnvFieldPaths are the pod fields env[].valueFrom.fieldRef may name, as
// Kubernetes allows them for env (besides metadata.labels['KEY'] and
// metadata.annotations['KEY']).
var EnvFieldPaths = []string{"metadata.name", "metadata.namespace", "metadata.uid",
	"spec.nodeName", "status.podIP", "status.podIPs", "status.hostIP", "status.hostIPs"}

// EnvResources are the resources env[].valueFrom.resourceFieldRef may name.
var EnvResources = []string{"limits.cpu", "limits.memory", "limits.ephemeral-storage",
	"requests.cpu", "requests.memory", "requests.ephemeral-storage"}

// subscriptRE is metadata.labels['KEY'] or metadata.annotations['KEY'].
var subscriptRE = regexp.MustCompile(`^metadata\.(labels|annotations)\['([^']*)'\]$`)

// SplitFieldSubscript splits metadata.labels['KEY'] into ("metadata.labels",
// "KEY", true).
func SplitFieldSubscript(path string) (field, key string, ok bool) {
	m := subscriptRE.FindStringSubmatch(path)
	if m == nil {
		return "", "", false
	}
	return "metadata." + m[1], m[2], true
}

// defaultEnvSources fills in what Kubernetes does: a fieldRef's apiVersion
// v1, a resourceFieldRef's divisor 1.
func defaultEnvSources(c *Container) {
	for i := range c.Env {
		vf := c.Env[i].ValueFrom
		if vf == nil {
			continue
		}
		if vf.FieldRef != nil && vf.FieldRef.APIVersion == "" {
			vf.FieldRef.APIVersion = V1
		}
		if vf.ResourceFieldRef != nil && vf.ResourceFieldRef.Divisor.IsZero() {
			vf.ResourceFieldRef.Divisor = resource.MustParse("1")
		}
	}
}

// validateEnvSources checks env[].valueFrom and envFrom of a container.
func validateEnvSources(path string, c *Container) FieldErrors {
	var errs FieldErrors
	for i := range c.Env {
		e := &c.Env[i]
		if e.ValueFrom == nil {
			continue
		}
		epath := fmt.Sprintf("%s.env[%d]", path, i)
		if e.Value != "" {
			errs = append(errs, &FieldError{Path: epath + ".valueFrom", Detail: "may not be specified when `value` is not empty"})
		}
		errs = append(errs, validateEnvVarSource(epath+".valueFrom", c, e.ValueFrom)...)
	}
	for i, f := range c.EnvFrom {
		fpath := fmt.Sprintf("%s.envFrom[%d]", path, i)
		if f.Prefix != "" {
			for _, msg := range validation.IsEnvVarName(f.Prefix) {
				errs = append(errs, &FieldError{Path: fpath + ".prefix", Value: f.Prefix, Detail: msg})
			}
		}
		n := 0
		if f.ConfigMapRef != nil {
			n++
			errs = append(errs, validateName(fpath+".configMapRef.name", f.ConfigMapRef.Name)...)
		}
		if f.SecretRef != nil {
			n++
			errs = append(errs, validateName(fpath+".secretRef.name", f.SecretRef.Name)...)
		}
		if n != 1 {
			errs = append(errs, &FieldError{Path: fpath, Detail: fmt.Sprintf("must have exactly one of configMapRef or secretRef, has %d", n)})
		}
	}
	return errs
}

func validateEnvVarSource(path string, c *Container, s *EnvVarSource) FieldErrors {
	var errs FieldErrors
	n := 0
	if r := s.ConfigMapKeyRef; r != nil {
		n++
		errs = append(errs, validateName(path+".configMapKeyRef.name", r.Name)...)
		errs = append(errs, validateKeyRef(path+".configMapKeyRef.key", r.Key)...)
	}
	if r := s.SecretKeyRef; r != nil {
		n++
		errs = append(errs, validateName(path+".secretKeyRef.name", r.Name)...)
		errs = append(errs, validateKeyRef(path+".secretKeyRef.key", r.Key)...)
	}
	if r := s.FieldRef; r != nil {
		n++
		errs = append(errs, validateFieldRef(path+".fieldRef", r, EnvFieldPaths)...)
	}
	if r := s.ResourceFieldRef; r != nil {
		n++
		errs = append(errs, validateResourceFieldRef(path+".resourceFieldRef", c, r)...)
	}
	if n != 1 {
		errs = append(errs, &FieldError{Path: path,
			Detail: fmt.Sprintf("must have exactly one of configMapKeyRef, secretKeyRef, fieldRef or resourceFieldRef, has %d", n)})
	}
	return errs
}

func validateKeyRef(path, key string) FieldErrors {
	if key == "" {
		return FieldErrors{{Path: path, Detail: "required"}}
	}
	return validateConfigMapKey(path, key)
}

// validateFieldRef checks a fieldRef of env or of a downwardAPI volume
// (which take different plain paths).
func validateFieldRef(path string, r *ObjectFieldSelector, plain []string) FieldErrors {
	if r.APIVersion != V1 {
		return FieldErrors{{Path: path + ".apiVersion", Value: r.APIVersion, Detail: "must be v1"}}
	}
	if field, key, ok := SplitFieldSubscript(r.FieldPath); ok {
		for _, msg := range validation.IsQualifiedName(key) {
			return FieldErrors{{Path: path + ".fieldPath", Value: r.FieldPath, Detail: "the key in " + field + "[...]: " + msg}}
		}
		return nil
	}
	for _, p := range plain {
		if r.FieldPath == p {
			return nil
		}
	}
	if r.FieldPath == "" {
		return FieldErrors{{Path: path + ".fieldPath", Detail: "required"}}
	}
	return FieldErrors{{Path: path + ".fieldPath", Value: r.FieldPath,
		Detail: "supported values: " + strings.Join(plain, ", ") + ", metadata.labels['KEY'], metadata.annotations['KEY']"}}
}

// validateResourceFieldRef checks a resourceFieldRef of env. shoal gives
// the container's own limit or request; a limit the container does not set
// would be the node's allocatable in Kubernetes, which shoal does not
// offer, so it is refused rather than answered wrongly.
func validateResourceFieldRef(path string, c *Container, r *ResourceFieldSelector) FieldErrors {
	var errs FieldErrors
	if r.ContainerName != "" && r.ContainerName != c.Name {
		errs = append(errs, &FieldError{Path: path + ".containerName", Value: r.ContainerName,
			Detail: "not supported by shoal: env may name only its own container's resources"})
	}
	known := false
	for _, res := range EnvResources {
		known = known || r.Resource == res
	}
	if !known {
		return append(errs, &FieldError{Path: path + ".resource", Value: r.Resource, Detail: "supported values: " + strings.Join(EnvResources, ", ")})
	}
	if r.Divisor.Sign() <= 0 {
		errs = append(errs, &FieldError{Path: path + ".divisor", Value: r.Divisor.String(), Detail: "must be positive"})
	}
	kind, name, _ := strings.Cut(r.Resource, ".")
	if kind == "limits" {
		if _, ok := c.Resources.Limits[ResourceName(name)]; !ok {
			errs = append(errs, &FieldError{Path: path + ".resource", Value: r.Resource,
				Detail: "not supported by shoal without resources.limits." + name + " on the container (Kubernetes would give the node's allocatable)"})
		}
	}
	return errs
}
