package api

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// A Namespace (core/v1, cluster-scoped) is a name objects live under. It
// is Active until deleted, then Terminating while the leader's namespace
// controller removes every object in it, then gone.

// Namespace kinds, phases and the names Kubernetes gives every cluster.
const (
	KindNamespace = "Namespace"
	// NamespaceActive and NamespaceTerminating are status.phase.
	NamespaceActive      = corev1.NamespaceActive
	NamespaceTerminating = corev1.NamespaceTerminating
	// FinalizerKubernetes is spec.finalizers' entry for the namespace
	// controller, which removes the namespace's content.
	FinalizerKubernetes = corev1.FinalizerKubernetes
	NamespaceKubeSystem = "kube-system"
	NamespaceKubePublic = "kube-public"
	NamespaceNodeLease  = "kube-node-lease"
)

// SystemNamespaces are the namespaces every fleet has; the leader creates
// them when they are missing, and until it has they exist implicitly (an
// agent's first writes may come before the leader's).
var SystemNamespaces = []string{DefaultNamespace, NamespaceKubeSystem, NamespaceKubePublic, NamespaceNodeLease}

// SystemNamespace tells whether name is one of SystemNamespaces.
func SystemNamespace(name string) bool {
	for _, n := range SystemNamespaces {
		if n == name {
			return true
		}
	}
	return false
}

// ImmortalNamespace tells whether a namespace may never be deleted, as
// Kubernetes' NamespaceLifecycle admission keeps them.
func ImmortalNamespace(name string) bool {
	return name == DefaultNamespace || name == NamespaceKubeSystem || name == NamespaceKubePublic
}

func defaultNamespace(n *Namespace) {
	n.APIVersion, n.Kind = V1, KindNamespace
	n.Namespace = ""
	if len(n.Spec.Finalizers) == 0 {
		n.Spec.Finalizers = []corev1.FinalizerName{FinalizerKubernetes}
	}
	if n.Status.Phase == "" {
		n.Status.Phase = NamespaceActive
	}
}

// ValidateNamespace checks a defaulted Namespace: its name is a DNS label
// (it becomes part of DNS names: NAME.NS.svc.cluster.local).
func ValidateNamespace(n *Namespace) error {
	var errs FieldErrors
	errs = append(errs, validateDNSLabel("metadata.name", n.Name)...)
	errs = append(errs, validateLabels("metadata.labels", n.Labels)...)
	for i, f := range n.Spec.Finalizers {
		if f != FinalizerKubernetes {
			errs = append(errs, &FieldError{Path: "spec.finalizers[" + strconv.Itoa(i) + "]", Value: string(f), Detail: "shoal knows only " + string(FinalizerKubernetes)})
		}
	}
	switch n.Status.Phase {
	case NamespaceActive, NamespaceTerminating:
	default:
		errs = append(errs, &FieldError{Path: "status.phase", Value: string(n.Status.Phase), Detail: "must be Active or Terminating"})
	}
	return errs.orNil()
}
