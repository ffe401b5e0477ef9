package controllers

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// This file computes, without I/O, the Endpoints and EndpointSlices a
// Service should have from the pods it selects, as Kubernetes' endpoints
// and EndpointSlice controllers do (pkg/controller/endpoint,
// k8s.io/endpointslice); endpoints.go compares them with what is stored
// and writes the difference.

// Labels Kubernetes' controllers put on what they keep for a Service.
const (
	// labelHeadless marks the endpoints of a Service without a virtual IP.
	labelHeadless = "service.kubernetes.io/headless"
	// maxEndpointsPerSlice is the default of kube-controller-manager's
	// --max-endpoints-per-slice: a larger group is split over slices.
	maxEndpointsPerSlice = 100
)

// endpointPod is what the endpoints controller needs of a pod. It is
// taken from the stored pod while the state is read-locked (the filter of
// State.Pods), so that a pass never copies whole pods: it keeps only
// strings, which do not change, and maps and slices of its own.
type endpointPod struct {
	namespace, name string
	uid             api.UID
	ip, node        string
	labels          map[string]string
	ready           bool // its Ready condition is True
	terminating     bool // it has a deletionTimestamp
	ports           []api.ContainerPort
}

// newEndpointPod reads p without keeping any part of it; nil when p can
// be no endpoint (no address yet, or finished).
func newEndpointPod(p *api.Pod) *endpointPod {
	ip := podAddress(p)
	if ip == "" || consensus.Terminal(p) {
		return nil
	}
	ep := &endpointPod{
		namespace: p.ObjectMeta.Namespace, name: p.ObjectMeta.Name, uid: p.ObjectMeta.UID,
		ip: ip, node: p.Spec.NodeName, labels: maps.Clone(p.ObjectMeta.Labels),
		ready: podReady(p), terminating: p.ObjectMeta.DeletionTimestamp != nil,
	}
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name != "" {
				ep.ports = append(ep.ports, cp)
			}
		}
	}
	return ep
}

// podAddress is the pod's IPv4 address, given by its binding.
func podAddress(p *api.Pod) string {
	if p.Status.PodIP != "" {
		return p.Status.PodIP
	}
	if len(p.Status.PodIPs) > 0 {
		return p.Status.PodIPs[0].IP
	}
	return ""
}

// podIndex finds the pods a selector matches without visiting every pod
// for every Service: pods by namespace, then by each of their labels.
type podIndex map[string]map[string][]*endpointPod

func labelKey(k, v string) string { return k + "=" + v }

func (ix podIndex) add(p *endpointPod) {
	ns := ix[p.namespace]
	if ns == nil {
		ns = map[string][]*endpointPod{}
		ix[p.namespace] = ns
	}
	for k, v := range p.labels {
		ns[labelKey(k, v)] = append(ns[labelKey(k, v)], p)
	}
}

// selected returns the pods of ns whose labels hold every pair of sel (a
// Service's selector, never empty here), in the order they were added.
// It starts from the pair with the fewest pods, so a pass costs about
// what the Services select, not Services times pods.
func (ix podIndex) selected(ns string, sel map[string]string) []*endpointPod {
	byLabel := ix[ns]
	var fewest []*endpointPod
	first := true
	for k, v := range sel {
		pods := byLabel[labelKey(k, v)]
		if len(pods) == 0 {
			return nil
		}
		if first || len(pods) < len(fewest) {
			fewest, first = pods, false
		}
	}
	var out []*endpointPod
	for _, p := range fewest {
		if matchesAll(p.labels, sel) {
			out = append(out, p)
		}
	}
	return out
}

func matchesAll(labels, sel map[string]string) bool {
	for k, v := range sel {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// endpointPort is one Service port resolved for one pod.
type endpointPort struct {
	name  string
	port  int32
	proto api.Protocol
}

// portSet is the ports one pod serves a Service on, in the Service's
// order; pods with the same set share a subset and a slice.
type portSet []endpointPort

func (ps portSet) key() string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%s:%d/%s,", p.name, p.port, p.proto)
	}
	return b.String()
}

// resolvePorts resolves every port of svc for pod p as Kubernetes' FindPort
// does: a numeric targetPort is that number; a named one is the container
// port of that name and protocol in p, and a pod without one is left out
// of that port (it still serves the others).
func resolvePorts(svc *api.Service, p *endpointPod) portSet {
	var out portSet
	for _, sp := range svc.Spec.Ports {
		proto := sp.Protocol
		if proto == "" {
			proto = api.ProtocolTCP
		}
		target := sp.TargetPort
		if target.Type == intstr.Int && target.IntVal == 0 {
			target = intstr.FromInt32(sp.Port) // the default, for a Service not yet defaulted
		}
		port, ok := findPort(p, target, proto)
		if !ok {
			continue
		}
		out = append(out, endpointPort{name: sp.Name, port: port, proto: proto})
	}
	return out
}

func findPort(p *endpointPod, target api.IntOrString, proto api.Protocol) (int32, bool) {
	if target.Type == intstr.Int {
		return target.IntVal, target.IntVal > 0
	}
	for _, cp := range p.ports {
		cproto := cp.Protocol
		if cproto == "" {
			cproto = api.ProtocolTCP
		}
		if cp.Name == target.StrVal && cproto == proto {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

// podServes tells whether p passes traffic: its Ready condition is True
// and its node is Ready (a pod of a node the fleet declared NotReady, or
// of a node it does not know, is not, as Kubernetes' node lifecycle
// controller marks such pods not ready).
func podServes(p *endpointPod, readyNodes map[string]bool) bool {
	return p.ready && readyNodes[p.node]
}

// desiredEndpoints is what the endpoints of one Service should be.
type desiredEndpoints struct {
	endpoints *api.Endpoints
	slices    []*api.EndpointSlice
}

// planEndpoints computes the v1 Endpoints and the EndpointSlices of svc
// from the pods it selects (from podIndex.selected). readyNodes names the
// nodes the fleet holds Ready.
func planEndpoints(svc *api.Service, pods []*endpointPod, readyNodes map[string]bool) desiredEndpoints {
	type subset struct {
		ports           portSet
		ready, notReady []api.EndpointAddress
		sliceEndpoints  []api.SliceEndpoint
	}
	groups := map[string]*subset{}
	group := func(ps portSet) *subset {
		k := ps.key()
		g := groups[k]
		if g == nil {
			g = &subset{ports: ps}
			groups[k] = g
		}
		return g
	}
	headlessNoPorts := len(svc.Spec.Ports) == 0
	for _, p := range pods {
		ports := resolvePorts(svc, p)
		g := group(ports)
		serving := podServes(p, readyNodes)
		ref := &api.ObjectReference{Kind: api.KindPod, Namespace: p.namespace, Name: p.name, UID: p.uid}
		var node *string
		if p.node != "" {
			node = &p.node
		}
		// v1 Endpoints leave terminating pods out, and a pod that serves
		// none of the Service's ports (a Service without ports, headless,
		// lists its pods without any).
		if !p.terminating && (len(ports) > 0 || headlessNoPorts) {
			addr := api.EndpointAddress{IP: p.ip, TargetRef: ref, NodeName: node}
			if serving {
				g.ready = append(g.ready, addr)
			} else {
				g.notReady = append(g.notReady, addr)
			}
		}
		// A slice lists every pod, with its conditions: ready only when
		// serving and not terminating, as Kubernetes does.
		ready, terminating := serving && !p.terminating, p.terminating
		g.sliceEndpoints = append(g.sliceEndpoints, api.SliceEndpoint{
			Addresses:  []string{p.ip},
			Conditions: api.SliceConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
			TargetRef:  ref,
			NodeName:   node,
		})
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	ep := &api.Endpoints{ObjectMeta: api.ObjectMeta{Name: svc.ObjectMeta.Name, Namespace: svc.ObjectMeta.Namespace, Labels: endpointsLabels(svc)}}
	ep.APIVersion, ep.Kind = api.V1, api.KindEndpoints
	var slices []*api.EndpointSlice
	for _, k := range keys {
		g := groups[k]
		if len(g.ready)+len(g.notReady) > 0 {
			sortAddresses(g.ready)
			sortAddresses(g.notReady)
			ss := api.EndpointSubset{Addresses: g.ready, NotReadyAddresses: g.notReady}
			for _, p := range g.ports {
				ss.Ports = append(ss.Ports, api.EndpointPort{Name: p.name, Port: p.port, Protocol: p.proto})
			}
			ep.Subsets = append(ep.Subsets, ss)
		}
		sort.Slice(g.sliceEndpoints, func(i, j int) bool { return endpointLess(g.sliceEndpoints[i], g.sliceEndpoints[j]) })
		for start := 0; start < len(g.sliceEndpoints); start += maxEndpointsPerSlice {
			end := min(start+maxEndpointsPerSlice, len(g.sliceEndpoints))
			slices = append(slices, newSlice(svc, g.ports, start/maxEndpointsPerSlice, g.sliceEndpoints[start:end]))
		}
	}
	if len(slices) == 0 {
		// As Kubernetes does, a Service with no endpoints keeps one empty
		// slice, so that readers tell "none" from "not yet computed".
		slices = append(slices, newSlice(svc, portSet{}, 0, nil))
	}
	return desiredEndpoints{endpoints: ep, slices: slices}
}

func sortAddresses(as []api.EndpointAddress) {
	sort.Slice(as, func(i, j int) bool {
		if as[i].IP != as[j].IP {
			return as[i].IP < as[j].IP
		}
		return as[i].TargetRef.Name < as[j].TargetRef.Name
	})
}

func endpointLess(a, b api.SliceEndpoint) bool {
	if a.Addresses[0] != b.Addresses[0] {
		return a.Addresses[0] < b.Addresses[0]
	}
	return a.TargetRef.Name < b.TargetRef.Name
}

// endpointsLabels are the Service's labels, and the headless mark when it
// has no virtual IP, as Kubernetes' endpoints controller sets them.
func endpointsLabels(svc *api.Service) map[string]string {
	out := map[string]string{}
	for k, v := range svc.ObjectMeta.Labels {
		if k != labelHeadless {
			out[k] = v
		}
	}
	if api.IsHeadless(svc) {
		out[labelHeadless] = ""
	}
	return out
}

// sliceName names the chunk-th slice of svc's pods serving ports: stable
// across passes, so an unchanged group is the same object.
func sliceName(svc *api.Service, ports portSet, chunk int) string {
	h := fnv.New32a()
	h.Write([]byte(ports.key()))
	name := fmt.Sprintf("%s-%08x", svc.ObjectMeta.Name, h.Sum32())
	if chunk > 0 {
		name += fmt.Sprintf("-%d", chunk)
	}
	return name
}

func newSlice(svc *api.Service, ports portSet, chunk int, eps []api.SliceEndpoint) *api.EndpointSlice {
	labels := endpointsLabels(svc)
	delete(labels, api.LabelServiceName)
	delete(labels, api.LabelManagedBy)
	labels[api.LabelServiceName] = svc.ObjectMeta.Name
	labels[api.LabelManagedBy] = api.EndpointSliceController
	yes := true
	es := &api.EndpointSlice{
		ObjectMeta: api.ObjectMeta{
			Name: sliceName(svc, ports, chunk), Namespace: svc.ObjectMeta.Namespace, Labels: labels,
			OwnerReferences: []api.OwnerReference{{APIVersion: api.V1, Kind: api.KindService,
				Name: svc.ObjectMeta.Name, UID: svc.ObjectMeta.UID, Controller: &yes, BlockOwnerDeletion: &yes}},
		},
		AddressType: api.AddressTypeIPv4,
		Endpoints:   append([]api.SliceEndpoint(nil), eps...),
		Ports:       []api.SlicePort{},
	}
	es.APIVersion, es.Kind = api.DiscoveryV1, api.KindEndpointSlice
	for _, p := range ports {
		name, port, proto := p.name, p.port, p.proto
		es.Ports = append(es.Ports, api.SlicePort{Name: &name, Port: &port, Protocol: &proto})
	}
	return es
}

// sameEndpoints compares what the controller decides, not what the store
// adds (resourceVersion, UID, creation time): an equal pair is not
// written. It compares field by field rather than by reflection: a pass
// compares every Service's endpoints, and a missing list equals an empty
// one, as it does once stored.
func sameEndpoints(stored, want *api.Endpoints) bool {
	return maps.Equal(stored.ObjectMeta.Labels, want.ObjectMeta.Labels) &&
		slices.EqualFunc(stored.Subsets, want.Subsets, func(a, b api.EndpointSubset) bool {
			return slices.EqualFunc(a.Addresses, b.Addresses, sameAddress) &&
				slices.EqualFunc(a.NotReadyAddresses, b.NotReadyAddresses, sameAddress) &&
				slices.EqualFunc(a.Ports, b.Ports, func(x, y api.EndpointPort) bool {
					return x.Name == y.Name && x.Port == y.Port && x.Protocol == y.Protocol && samePtr(x.AppProtocol, y.AppProtocol)
				})
		})
}

func sameAddress(a, b api.EndpointAddress) bool {
	return a.IP == b.IP && a.Hostname == b.Hostname && samePtr(a.NodeName, b.NodeName) && samePtr(a.TargetRef, b.TargetRef)
}

func sameSlice(stored, want *api.EndpointSlice) bool {
	return maps.Equal(stored.ObjectMeta.Labels, want.ObjectMeta.Labels) &&
		slices.EqualFunc(stored.ObjectMeta.OwnerReferences, want.ObjectMeta.OwnerReferences, func(a, b api.OwnerReference) bool {
			return a.APIVersion == b.APIVersion && a.Kind == b.Kind && a.Name == b.Name && a.UID == b.UID &&
				samePtr(a.Controller, b.Controller) && samePtr(a.BlockOwnerDeletion, b.BlockOwnerDeletion)
		}) &&
		stored.AddressType == want.AddressType &&
		slices.EqualFunc(stored.Endpoints, want.Endpoints, func(a, b api.SliceEndpoint) bool {
			c, d := a.Conditions, b.Conditions
			return slices.Equal(a.Addresses, b.Addresses) &&
				samePtr(c.Ready, d.Ready) && samePtr(c.Serving, d.Serving) && samePtr(c.Terminating, d.Terminating) &&
				samePtr(a.Hostname, b.Hostname) && samePtr(a.TargetRef, b.TargetRef) && samePtr(a.NodeName, b.NodeName) &&
				samePtr(a.Zone, b.Zone) && a.Hints == nil && b.Hints == nil && len(a.DeprecatedTopology) == 0 && len(b.DeprecatedTopology) == 0
		}) &&
		slices.EqualFunc(stored.Ports, want.Ports, func(a, b api.SlicePort) bool {
			return samePtr(a.Name, b.Name) && samePtr(a.Port, b.Port) && samePtr(a.Protocol, b.Protocol) && samePtr(a.AppProtocol, b.AppProtocol)
		})
}

// samePtr: both nil, or both pointing at equal values.
func samePtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
