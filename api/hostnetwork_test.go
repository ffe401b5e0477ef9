package api

import (
	"strings"
	"testing"
)

const hostNetPod = `apiVersion: v1
kind: Pod
metadata: {name: exporter}
spec:
  hostNetwork: true
  dnsPolicy: ClusterFirstWithHostNet
  containers:
  - name: c
    image: busybox:1
    ports: [{containerPort: 9100}, {containerPort: 9100, protocol: UDP, hostPort: 9100}]
`

func TestHostNetworkDefaultsHostPortsAndCountsThem(t *testing.T) {
	p, err := decodePod(t, hostNetPod)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if hp := p.Spec.Containers[0].Ports[0].HostPort; hp != 9100 {
		t.Fatalf("hostPort defaulted to %d, want the containerPort 9100", hp)
	}
	if got := strings.Join(HostPorts(p), " "); got != "TCP/9100 UDP/9100" {
		t.Fatalf("HostPorts = %q", got)
	}
	p.Spec.HostNetwork = false
	if got := HostPorts(p); got != nil {
		t.Fatalf("HostPorts of a pod with its own network = %v, want none", got)
	}
}

func TestHostPortBadInputIsRefusedByPath(t *testing.T) {
	cases := map[string]struct{ from, to, want string }{
		"hostPort without hostNetwork": {"  hostNetwork: true\n", "",
			`spec.containers[0].ports[1].hostPort: invalid value "9100": not supported by shoal without hostNetwork: true`},
		"hostPort mapped": {"protocol: UDP, hostPort: 9100", "protocol: UDP, hostPort: 19100",
			`spec.containers[0].ports[1].hostPort: invalid value "19100": must equal containerPort (9100) with hostNetwork: true`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			doc := strings.Replace(hostNetPod, tc.from, tc.to, 1)
			if doc == hostNetPod {
				t.Fatal("case did not change the manifest")
			}
			_, err := decodePod(t, doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
