package api

import (
	"strings"
	"testing"
)

func dnsPod(spec string) string {
	return `apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - {name: main, image: busybox:1}
` + spec
}

func TestDNSConfigDecodesWithEveryPolicy(t *testing.T) {
	for _, policy := range []string{"ClusterFirst", "Default", "None", "ClusterFirstWithHostNet"} {
		p, err := decodePod(t, dnsPod(`  dnsPolicy: `+policy+`
  dnsConfig:
    nameservers: [192.0.2.53, "2001:db8::53"]
    searches: [corp.example, example.com.]
    options:
    - {name: ndots, value: "2"}
    - {name: edns0}
`))
		if err != nil {
			t.Fatalf("dnsPolicy %s: %v", policy, err)
		}
		c := p.Spec.DNSConfig
		if string(p.Spec.DNSPolicy) != policy || c == nil || len(c.Nameservers) != 2 || c.Searches[1] != "example.com." ||
			c.Options[0].Value == nil || *c.Options[0].Value != "2" || c.Options[1].Value != nil {
			t.Errorf("dnsPolicy %s: decoded %+v", policy, p.Spec)
		}
	}
}

func TestDNSConfigRefusedNamingTheField(t *testing.T) {
	long := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60)
	var many, tooLong []string
	for i := 0; i < 33; i++ {
		many = append(many, "d"+strings.Repeat("x", i%3)+".example")
	}
	for i := 0; i < 12; i++ {
		tooLong = append(tooLong, long)
	}
	cases := map[string]struct{ spec, want string }{
		"None without dnsConfig":     {"  dnsPolicy: None\n", "spec.dnsConfig: required when dnsPolicy is None"},
		"None without a nameserver":  {"  dnsPolicy: None\n  dnsConfig: {searches: [a.example]}\n", "spec.dnsConfig.nameservers: required"},
		"an unknown policy":          {"  dnsPolicy: Cluster\n", `spec.dnsPolicy: invalid value "Cluster"`},
		"four nameservers":           {"  dnsConfig: {nameservers: [1.1.1.1, 1.0.0.1, 8.8.8.8, 8.8.4.4]}\n", "spec.dnsConfig.nameservers: invalid value \"1.1.1.1,1.0.0.1,8.8.8.8,8.8.4.4\": must not have more than 3"},
		"a nameserver not an IP":     {"  dnsConfig: {nameservers: [1.1.1.1, dns.example]}\n", `spec.dnsConfig.nameservers[1]: invalid value "dns.example": must be an IP address`},
		"a bad search domain":        {"  dnsConfig: {searches: [ok.example, Bad_Domain]}\n", `spec.dnsConfig.searches[1]: invalid value "Bad_Domain"`},
		"an empty search domain":     {"  dnsConfig: {searches: [\"\"]}\n", "spec.dnsConfig.searches[0]: required"},
		"33 search domains":          {"  dnsConfig: {searches: [" + strings.Join(many, ", ") + "]}\n", "spec.dnsConfig.searches: invalid value"},
		"a search list too long":     {"  dnsConfig: {searches: [" + strings.Join(tooLong, ", ") + "]}\n", "spec.dnsConfig.searches: must not have more than 2048 characters"},
		"an option without its name": {"  dnsConfig: {options: [{value: \"1\"}]}\n", "spec.dnsConfig.options[0].name: required"},
	}
	for name, c := range cases {
		_, err := decodePod(t, dnsPod(c.spec))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	if _, err := decodePod(t, dnsPod("  dnsPolicy: None\n  dnsConfig: {nameservers: [192.0.2.53], searches: [\".\"]}\n")); err != nil {
		t.Errorf("None with a nameserver and the root search domain refused: %v", err)
	}
}
