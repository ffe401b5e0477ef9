package api

import (
	"k8s.io/apimachinery/pkg/util/intstr"
)

// IntOrString is a port given as a number or as the name of a container
// port, decoded from either JSON form as in Kubernetes.
type IntOrString = intstr.IntOrString

// FromInt returns a numeric IntOrString.
func FromInt(v int32) IntOrString { return intstr.FromInt32(v) }

// FromString returns a named IntOrString.
func FromString(s string) IntOrString { return intstr.FromString(s) }

// isName tells whether a port is given by name.
func isName(v IntOrString) bool { return v.Type == intstr.String }
