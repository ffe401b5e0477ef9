package podruntime

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoal-dev/shoal/api"
)

func TestClusterFirstPodsGetTheNodesDNSWithKubernetesSearchPath(t *testing.T) {
	d := &ClusterDNS{Nameserver: "10.250.0.11", Domain: "cluster.local"}
	want := "search prod.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.250.0.11\noptions ndots:5\n"
	if got := string(d.resolvConf("prod")); got != want {
		t.Errorf("resolv.conf:\n%s\nwant:\n%s", got, want)
	}
	for policy, uses := range map[corev1.DNSPolicy]bool{
		"": true, api.DNSClusterFirst: true, api.DNSClusterFirstWithHostNet: true, api.DNSDefault: false,
	} {
		var p api.Pod
		p.Spec.DNSPolicy = policy
		if usesClusterDNS(&p) != uses {
			t.Errorf("dnsPolicy %q: uses the cluster DNS = %t, want %t", policy, !uses, uses)
		}
	}
}
