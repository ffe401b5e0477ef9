package api

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// DNSNone leaves a pod's resolv.conf entirely to its dnsConfig.
const DNSNone = corev1.DNSNone

// PodDNSConfig is a pod's spec.dnsConfig: nameservers, search domains and
// resolver options added to what its dnsPolicy gives (podruntime/resolvconf.go
// merges them as the kubelet does).
type PodDNSConfig = corev1.PodDNSConfig

// Kubernetes' limits on a pod's resolver (pkg/apis/core/validation): glibc
// reads at most 3 nameservers, and the kubelet 32 search domains of 2048
// characters in all.
const (
	MaxDNSNameservers     = 3
	MaxDNSSearchPaths     = 32
	MaxDNSSearchListChars = 2048
)

// validateDNS checks spec.dnsPolicy and spec.dnsConfig as Kubernetes does:
// None needs a dnsConfig with at least one nameserver; nameservers are IP
// addresses, at most 3; search domains are DNS subdomains (a trailing dot
// allowed), at most 32 and 2048 characters; every option has a name.
func validateDNS(path string, s *PodSpec) FieldErrors {
	var errs FieldErrors
	switch s.DNSPolicy {
	case "", DNSClusterFirst, DNSClusterFirstWithHostNet, DNSDefault, DNSNone:
	default:
		errs = append(errs, &FieldError{Path: path + ".dnsPolicy", Value: string(s.DNSPolicy),
			Detail: "must be ClusterFirst, ClusterFirstWithHostNet, Default or None"})
	}
	cfg := s.DNSConfig
	cpath := path + ".dnsConfig"
	if cfg == nil {
		if s.DNSPolicy == DNSNone {
			errs = append(errs, &FieldError{Path: cpath, Detail: "required when dnsPolicy is None"})
		}
		return errs
	}
	if s.DNSPolicy == DNSNone && len(cfg.Nameservers) == 0 {
		errs = append(errs, &FieldError{Path: cpath + ".nameservers", Detail: "required: at least one nameserver when dnsPolicy is None"})
	}
	if len(cfg.Nameservers) > MaxDNSNameservers {
		errs = append(errs, &FieldError{Path: cpath + ".nameservers", Value: strings.Join(cfg.Nameservers, ","),
			Detail: fmt.Sprintf("must not have more than %d nameservers", MaxDNSNameservers)})
	}
	for i, ns := range cfg.Nameservers {
		if _, err := netip.ParseAddr(ns); err != nil {
			errs = append(errs, &FieldError{Path: fmt.Sprintf("%s.nameservers[%d]", cpath, i), Value: ns, Detail: "must be an IP address"})
		}
	}
	if len(cfg.Searches) > MaxDNSSearchPaths {
		errs = append(errs, &FieldError{Path: cpath + ".searches", Value: strings.Join(cfg.Searches, " "),
			Detail: fmt.Sprintf("must not have more than %d search paths", MaxDNSSearchPaths)})
	}
	if n := len(strings.Join(cfg.Searches, " ")); n > MaxDNSSearchListChars {
		errs = append(errs, &FieldError{Path: cpath + ".searches",
			Detail: fmt.Sprintf("must not have more than %d characters (including spaces) in the search list, has %d", MaxDNSSearchListChars, n)})
	}
	for i, search := range cfg.Searches {
		spath := fmt.Sprintf("%s.searches[%d]", cpath, i)
		if search == "." {
			continue
		}
		trimmed := strings.TrimSuffix(search, ".")
		if trimmed == "" {
			errs = append(errs, &FieldError{Path: spath, Detail: "required: an empty search domain"})
			continue
		}
		for _, msg := range validation.IsDNS1123Subdomain(trimmed) {
			errs = append(errs, &FieldError{Path: spath, Value: search, Detail: msg})
		}
	}
	for i, o := range cfg.Options {
		if o.Name == "" {
			errs = append(errs, &FieldError{Path: fmt.Sprintf("%s.options[%d].name", cpath, i), Detail: "required"})
		}
	}
	return errs
}
