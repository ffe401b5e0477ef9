package api

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// A ConfigMap (core/v1) holds configuration for pods: data (UTF-8 strings)
// and binaryData (bytes, base64 in JSON and YAML), read by containers as
// environment variables or as files of a volume.
type (
	ConfigMap     = corev1.ConfigMap
	ConfigMapList = corev1.ConfigMapList
)

// KindConfigMap is the kind of a ConfigMap.
const KindConfigMap = "ConfigMap"

// maxConfigMapBytes is Kubernetes' limit on a ConfigMap's data and
// binaryData together (corev1.MaxSecretSize, which it shares).
const maxConfigMapBytes = 1 << 20

func defaultConfigMap(c *ConfigMap) {
	c.APIVersion, c.Kind = V1, KindConfigMap
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
}

// ValidateConfigMap checks a defaulted ConfigMap as Kubernetes does: keys
// of data and binaryData are config map keys (letters, digits, '-', '_',
// '.', at most 253, not '.' or '..' nor starting with '..'), no key in
// both, and at most 1 MiB in all.
func ValidateConfigMap(c *ConfigMap) error {
	var errs FieldErrors
	errs = append(errs, validateName("metadata.name", c.Name)...)
	errs = append(errs, validateDNSLabel("metadata.namespace", c.Namespace)...)
	errs = append(errs, validateLabels("metadata.labels", c.Labels)...)
	size := 0
	for _, k := range sortedKeys(c.Data) {
		size += len(k) + len(c.Data[k])
		errs = append(errs, validateConfigMapKey("data", k)...)
	}
	for _, k := range sortedKeys(c.BinaryData) {
		size += len(k) + len(c.BinaryData[k])
		errs = append(errs, validateConfigMapKey("binaryData", k)...)
		if _, dup := c.Data[k]; dup {
			errs = append(errs, &FieldError{Path: "binaryData", Value: k, Detail: "duplicate of a key in data"})
		}
	}
	if size > maxConfigMapBytes {
		errs = append(errs, &FieldError{Path: "data", Detail: fmt.Sprintf("%d bytes: a ConfigMap holds at most %d", size, maxConfigMapBytes)})
	}
	return errs.orNil()
}

func validateConfigMapKey(path, k string) FieldErrors {
	if msgs := validation.IsConfigMapKey(k); len(msgs) > 0 {
		return FieldErrors{{Path: path, Value: k, Detail: strings.Join(msgs, "; ")}}
	}
	return nil
}

// sortedKeys returns the keys of a map in order, so errors come in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
