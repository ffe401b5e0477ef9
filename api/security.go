package api

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Security context types. What containerd and runc can honour for a
// container is supported (the user and groups a process runs as, a
// read-only root, no new privileges, capabilities, privileged, the
// runtime's default seccomp profile); SELinux, AppArmor, Windows options,
// sysctls and local seccomp profiles are refused by name (supported.go).
type (
	PodSecurityContext = corev1.PodSecurityContext
	SecurityContext    = corev1.SecurityContext
	Capabilities       = corev1.Capabilities
	SeccompProfile     = corev1.SeccompProfile
	Capability         = corev1.Capability
)

// Seccomp profile types.
const (
	SeccompRuntimeDefault = corev1.SeccompProfileTypeRuntimeDefault
	SeccompUnconfined     = corev1.SeccompProfileTypeUnconfined
)

// linuxCapabilities are the capability names a container may add or drop
// (without Kubernetes' optional CAP_ prefix), as of Linux 6.1.
var linuxCapabilities = map[string]bool{}

func init() {
	for _, c := range strings.Fields(`AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND BPF CHECKPOINT_RESTORE CHOWN
		DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID IPC_LOCK IPC_OWNER KILL LEASE LINUX_IMMUTABLE MAC_ADMIN MAC_OVERRIDE
		MKNOD NET_ADMIN NET_BIND_SERVICE NET_BROADCAST NET_RAW PERFMON SETFCAP SETGID SETPCAP SETUID SYS_ADMIN SYS_BOOT
		SYS_CHROOT SYS_MODULE SYS_NICE SYS_PACCT SYS_PTRACE SYS_RAWIO SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG SYSLOG WAKE_ALARM`) {
		linuxCapabilities[c] = true
	}
}

// CapabilityName is c as the OCI spec names it: CAP_ and upper case.
func CapabilityName(c Capability) string {
	return "CAP_" + strings.TrimPrefix(strings.ToUpper(string(c)), "CAP_")
}

func validatePodSecurityContext(path string, sc *PodSecurityContext) FieldErrors {
	if sc == nil {
		return nil
	}
	var errs FieldErrors
	errs = append(errs, validateID(path+".runAsUser", sc.RunAsUser)...)
	errs = append(errs, validateID(path+".runAsGroup", sc.RunAsGroup)...)
	errs = append(errs, validateID(path+".fsGroup", sc.FSGroup)...)
	for i, g := range sc.SupplementalGroups {
		errs = append(errs, validateID(fmt.Sprintf("%s.supplementalGroups[%d]", path, i), &g)...)
	}
	errs = append(errs, validateSeccomp(path+".seccompProfile", sc.SeccompProfile)...)
	return errs
}

func validateSecurityContext(path string, sc *SecurityContext) FieldErrors {
	if sc == nil {
		return nil
	}
	var errs FieldErrors
	errs = append(errs, validateID(path+".runAsUser", sc.RunAsUser)...)
	errs = append(errs, validateID(path+".runAsGroup", sc.RunAsGroup)...)
	errs = append(errs, validateSeccomp(path+".seccompProfile", sc.SeccompProfile)...)
	noEscalation := sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation
	if noEscalation && sc.Privileged != nil && *sc.Privileged {
		errs = append(errs, &FieldError{Path: path, Detail: "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"})
	}
	if c := sc.Capabilities; c != nil {
		for _, list := range []struct {
			name string
			caps []Capability
		}{{"add", c.Add}, {"drop", c.Drop}} {
			for i, cp := range list.caps {
				name := strings.TrimPrefix(strings.ToUpper(string(cp)), "CAP_")
				if name == "ALL" {
					continue
				}
				if !linuxCapabilities[name] {
					errs = append(errs, &FieldError{Path: fmt.Sprintf("%s.capabilities.%s[%d]", path, list.name, i), Value: string(cp), Detail: "not a Linux capability"})
				}
				if list.name == "add" && name == "SYS_ADMIN" && noEscalation {
					errs = append(errs, &FieldError{Path: path, Detail: "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"})
				}
			}
		}
	}
	return errs
}

// validateID checks a user or group ID as Kubernetes does.
func validateID(path string, id *int64) FieldErrors {
	if id == nil || (*id >= 0 && *id <= 2147483647) {
		return nil
	}
	return FieldErrors{{Path: path, Value: fmt.Sprint(*id), Detail: "must be between 0 and 2147483647, inclusive"}}
}

func validateSeccomp(path string, p *SeccompProfile) FieldErrors {
	if p == nil {
		return nil
	}
	switch p.Type {
	case SeccompRuntimeDefault, SeccompUnconfined:
		return nil
	case corev1.SeccompProfileTypeLocalhost:
		return FieldErrors{{Path: path + ".type", Value: string(p.Type), Detail: "not supported by shoal: only RuntimeDefault and Unconfined (a node has no local profiles)"}}
	}
	return FieldErrors{{Path: path + ".type", Value: string(p.Type), Detail: "must be RuntimeDefault, Unconfined or Localhost"}}
}
