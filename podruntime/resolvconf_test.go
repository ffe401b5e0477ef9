package podruntime

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoal-dev/shoal/api"
)

const hostConf = `# written by the machine
domain lan.example
search corp.example lan.example
nameserver 192.0.2.1
nameserver 192.0.2.2
options rotate timeout:2
`

func TestPodResolvConfFollowsPolicyAndDNSConfig(t *testing.T) {
	d := &ClusterDNS{Nameserver: "10.250.0.11", Domain: "cluster.local"}
	host := func() ([]byte, error) { return []byte(hostConf), nil }
	two, one := "2", "1"
	cfg := &api.PodDNSConfig{
		Nameservers: []string{"192.0.2.53", "10.250.0.11", "192.0.2.54", "192.0.2.55"},
		Searches:    []string{"corp.example", "svc.cluster.local"},
		Options:     []corev1.PodDNSConfigOption{{Name: "ndots", Value: &two}, {Name: "edns0"}, {Name: "attempts", Value: &one}},
	}
	cases := []struct {
		name   string
		policy corev1.DNSPolicy
		cfg    *api.PodDNSConfig
		dns    *ClusterDNS
		want   string // "" keeps the image's
	}{
		{"ClusterFirst", api.DNSClusterFirst, nil, d,
			"search prod.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.250.0.11\noptions ndots:5\n"},
		{"unset is ClusterFirst", "", nil, d,
			"search prod.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.250.0.11\noptions ndots:5\n"},
		{"ClusterFirstWithHostNet", api.DNSClusterFirstWithHostNet, nil, d,
			"search prod.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.250.0.11\noptions ndots:5\n"},
		{"Default keeps the image's", api.DNSDefault, nil, d, ""},
		{"ClusterFirst without cluster DNS keeps the image's", api.DNSClusterFirst, nil, nil, ""},
		// Duplicates dropped, 3 nameservers at most, options by name.
		{"ClusterFirst with dnsConfig", api.DNSClusterFirst, cfg, d,
			"search prod.svc.cluster.local svc.cluster.local cluster.local corp.example\n" +
				"nameserver 10.250.0.11\nnameserver 192.0.2.53\nnameserver 192.0.2.54\noptions ndots:2 edns0 attempts:1\n"},
		{"Default with dnsConfig starts from the machine's", api.DNSDefault, cfg, d,
			"search corp.example lan.example svc.cluster.local\n" +
				"nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.53\noptions rotate timeout:2 ndots:2 edns0 attempts:1\n"},
		{"ClusterFirst without cluster DNS is Default", api.DNSClusterFirst, &api.PodDNSConfig{Options: cfg.Options[1:2]}, nil,
			"search corp.example lan.example\nnameserver 192.0.2.1\nnameserver 192.0.2.2\noptions rotate timeout:2 edns0\n"},
		{"None is the dnsConfig alone", api.DNSNone, &api.PodDNSConfig{Nameservers: []string{"192.0.2.53"}, Searches: []string{"a.example"}}, d,
			"search a.example\nnameserver 192.0.2.53\n"},
	}
	for _, c := range cases {
		var p api.Pod
		p.ObjectMeta.Namespace = "prod"
		p.Spec.DNSPolicy, p.Spec.DNSConfig = c.policy, c.cfg
		got, err := podResolvConf(&p, c.dns, host)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if string(got) != c.want {
			t.Errorf("%s: resolv.conf\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
	var p api.Pod
	p.Spec.DNSPolicy, p.Spec.DNSConfig = api.DNSDefault, cfg
	if _, err := podResolvConf(&p, d, func() ([]byte, error) { return nil, errors.New("gone") }); err == nil {
		t.Error("a Default pod with dnsConfig started without the machine's resolv.conf")
	}
}
