package api

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// A ServiceAccount (core/v1) is the identity a pod's processes take when
// they call the API: every pod names one (spec.serviceAccountName, the
// namespace's `default` when unset), and the token the node mounts into the
// pod is bound to it. shoal stores its metadata, imagePullSecrets and
// automountServiceAccountToken; the legacy token Secrets (secrets) are not
// made nor supported: tokens are bound and short-lived (TokenRequest).
type (
	ServiceAccount     = corev1.ServiceAccount
	ServiceAccountList = corev1.ServiceAccountList
)

// ServiceAccount names.
const (
	KindServiceAccount = "ServiceAccount"
	// DefaultServiceAccount is the ServiceAccount the leader makes in
	// every namespace and a pod that names none runs as.
	DefaultServiceAccount = "default"
)

func defaultServiceAccount(sa *ServiceAccount) {
	sa.APIVersion, sa.Kind = V1, KindServiceAccount
	if sa.Namespace == "" {
		sa.Namespace = DefaultNamespace
	}
}

// ValidateServiceAccount checks a defaulted ServiceAccount as Kubernetes
// does: its name, namespace, labels and the names of its imagePullSecrets.
func ValidateServiceAccount(sa *ServiceAccount) error {
	var errs FieldErrors
	errs = append(errs, validateName("metadata.name", sa.Name)...)
	errs = append(errs, validateDNSLabel("metadata.namespace", sa.Namespace)...)
	errs = append(errs, validateLabels("metadata.labels", sa.Labels)...)
	for i, s := range sa.ImagePullSecrets {
		errs = append(errs, validateName(fmt.Sprintf("imagePullSecrets[%d].name", i), s.Name)...)
	}
	return errs.orNil()
}

// validatePodServiceAccount checks the ServiceAccount a pod spec names:
// a valid name, and serviceAccount (deprecated) equal to
// serviceAccountName when both are set.
func validatePodServiceAccount(path string, s *PodSpec) FieldErrors {
	var errs FieldErrors
	if s.ServiceAccountName != "" {
		errs = append(errs, validateName(path+".serviceAccountName", s.ServiceAccountName)...)
	}
	if s.DeprecatedServiceAccount != "" {
		errs = append(errs, validateName(path+".serviceAccount", s.DeprecatedServiceAccount)...)
		if s.ServiceAccountName != "" && s.DeprecatedServiceAccount != s.ServiceAccountName {
			errs = append(errs, &FieldError{Path: path + ".serviceAccount", Value: s.DeprecatedServiceAccount,
				Detail: "must equal serviceAccountName (" + s.ServiceAccountName + ") when both are set"})
		}
	}
	return errs
}

// PodServiceAccount is the ServiceAccount a pod runs as: its
// serviceAccountName, else the deprecated serviceAccount, else the
// namespace's default, as Kubernetes' ServiceAccount admission decides.
func PodServiceAccount(spec *PodSpec) string {
	switch {
	case spec.ServiceAccountName != "":
		return spec.ServiceAccountName
	case spec.DeprecatedServiceAccount != "":
		return spec.DeprecatedServiceAccount
	}
	return DefaultServiceAccount
}

// AutomountToken tells whether a pod gets its ServiceAccount's token
// mounted: the pod's automountServiceAccountToken when set, else the
// ServiceAccount's (sa may be nil), else yes.
func AutomountToken(spec *PodSpec, sa *ServiceAccount) bool {
	if b := spec.AutomountServiceAccountToken; b != nil {
		return *b
	}
	if sa != nil && sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}
