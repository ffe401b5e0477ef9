package svcproxy

import (
	"fmt"
	"net/netip"
	"time"
)

// fleet is n Services of `eps` endpoints each, two ports (TCP named, UDP
// with a NodePort), every affinityEvery-th with ClientIP affinity (0: none). shift moves the
// endpoints of service `moved` so a test or benchmark can change one.
func fleet(n, eps, moved, shift, affinityEvery int) []Service {
	svcs := make([]Service, 0, n)
	for i := range n {
		s := Service{
			Namespace: fmt.Sprintf("ns%d", i%7),
			Name:      fmt.Sprintf("svc%d", i),
			ClusterIP: netip.AddrFrom4([4]byte{10, 96, byte(i >> 8), byte(i)}),
			Ports: []Port{
				{Name: "http", Protocol: TCP, Port: 80, TargetPort: 8080},
				{Name: "dns", Protocol: UDP, Port: 53, TargetPort: 5353, NodePort: uint16(30000 + i)},
			},
		}
		if affinityEvery > 0 && i%affinityEvery == 0 {
			s.SessionAffinity = &ClientIPAffinity{Timeout: 3 * time.Hour}
		}
		// An EndpointSlice's ports are its endpoints' ports: one map, as
		// the node builds them.
		ports := map[string]uint16{"http": 8080}
		for e := range eps {
			k := i*eps + e
			if i == moved {
				k += shift
			}
			s.Endpoints = append(s.Endpoints, Endpoint{
				IP:    netip.AddrFrom4([4]byte{10, 244, byte(k >> 8), byte(k)}),
				Ports: ports,
			})
		}
		svcs = append(svcs, s)
	}
	return svcs
}
