package consensus

import (
	"fmt"
	"net/netip"
	"strconv"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/shoal-dev/shoal/api"
)

// FuzzApplyServices drives the state machine with Service, Endpoints and
// EndpointSlice commands built from the fuzzer's bytes, over a small
// universe (a few names, a /28 service range and addresses around it, node
// ports near the bottom of the range) so that commands collide: taken and
// out-of-range addresses, a full range, stale UIDs and resourceVersions,
// endpoints of Services deleted or replaced. After every entry: a refused
// or unchanged command left the state as it was, the answer is what is
// stored, and the invariants hold (checkInvariants: unique addresses and
// node ports, endpoints only of stored Services, the index as a scan finds
// it). At the end a replay and a snapshot agree byte for byte.
func FuzzApplyServices(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 0, 1, 1, 0, 2, 0, 0, 1, 3, 1, 0, 0, 4, 0, 0})
	f.Add([]byte{0, 1, 2, 2, 1, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 1})
	f.Add([]byte{6, 0, 0, 0, 6, 0, 1, 0, 6, 0, 2, 0, 6, 0, 3, 0, 6, 1, 0, 1, 5, 0, 0, 0, 6, 1, 1, 0})
	f.Add([]byte{0, 0, 0, 3, 2, 0, 0, 3, 1, 7, 0, 0, 1, 2, 4, 0, 1, 1, 8, 1, 0, 3, 0, 5, 1, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &cmdGen{data: data}
		fsm := NewFSM()
		var entries [][]byte
		for i := 0; !g.done() && i < 200; i++ {
			g.next = uint64(len(entries) + 1)
			cmd := g.serviceCommand(fsm.st)
			entry, err := EncodeCommand(cmd)
			if err != nil {
				t.Fatalf("encode %s: %v", cmd.Type(), err)
			}
			entries = append(entries, entry)
			before := stateJSONAt(t, fsm, 0)
			out := fsm.Apply(&raft.Log{Index: g.next, Term: 1, Type: raft.LogCommand, Data: entry})
			switch v := out.(type) {
			case *Result:
				checkResultIsStored(t, fsm.st, cmd, v)
				if !v.Changed && stateJSONAt(t, fsm, 0) != before {
					t.Fatalf("entry %d (%s) answered unchanged but changed the state", g.next, entry)
				}
			case error:
				if after := stateJSONAt(t, fsm, 0); after != before {
					t.Fatalf("entry %d (%s) was refused (%v) but changed the state:\nbefore %s\nafter  %s", g.next, entry, v, before, after)
				}
			}
			if err := checkInvariants(fsm.st, true); err != nil {
				t.Fatalf("after entry %d (%s): %v", g.next, entry, err)
			}
		}
		checkReplay(t, entries, []byte(stateJSONAt(t, fsm, fsm.Index())))
	})
}

// fuzzServiceCIDR is small enough for the fuzzer to fill.
const fuzzServiceCIDR = "10.96.0.0/28"

func (g *cmdGen) serviceRef(st *state) (ns, name string, svc *api.Service) {
	ns = fuzzNamespaces[g.pick(len(fuzzNamespaces))]
	name = "s" + strconv.Itoa(g.pick(4))
	return ns, name, st.Services[api.Key(ns, name)]
}

func (g *cmdGen) serviceCommand(st *state) Command {
	now := g.time()
	uid := api.UID("uid-" + strconv.FormatUint(g.next, 10))
	ns, name, stored := g.serviceRef(st)
	storedUID := api.UID("")
	if stored != nil {
		storedUID = stored.ObjectMeta.UID
	}
	switch g.pick(9) {
	case 0, 1, 2:
		svc := api.Service{ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name}}
		svc.Spec.Selector = map[string]string{"app": name}
		for i := g.pick(3); i >= 0; i-- {
			p := api.ServicePort{Name: "p" + strconv.Itoa(i), Port: int32(80 + g.pick(3))}
			if g.pick(3) == 0 {
				p.Protocol = api.ProtocolUDP
			}
			if g.pick(4) == 0 {
				p.NodePort = int32(api.MinNodePort + g.pick(4))
			}
			svc.Spec.Ports = append(svc.Spec.Ports, p)
		}
		if g.pick(2) == 0 {
			svc.Spec.Type = api.ServiceTypeNodePort
		}
		switch g.pick(5) {
		case 0:
			svc.Spec.ClusterIP = api.ClusterIPNone
		case 1:
			// Around the range: the network and broadcast addresses,
			// outside it, and taken ones.
			svc.Spec.ClusterIP = fmt.Sprintf("10.96.0.%d", g.pick(18))
		case 2:
			if stored != nil {
				svc.Spec.ClusterIP = stored.Spec.ClusterIP
			}
		}
		if stored != nil && g.pick(4) == 0 {
			svc.ObjectMeta.ResourceVersion = []string{"1", stored.ObjectMeta.ResourceVersion}[g.pick(2)]
		}
		cidr := fuzzServiceCIDR
		if g.pick(8) == 0 {
			cidr = "10.96.0.0/27"
		}
		return ApplyService{Service: svc, Create: g.pick(2) == 0, UID: api.UID(newUIDFor(g, string(uid))), ServiceCIDR: cidr, Time: now}
	case 3:
		return DeleteService{Namespace: ns, Name: name, UID: api.UID(uidFor(g, string(storedUID)))}
	case 4, 5:
		e := api.Endpoints{ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name}}
		ss := api.EndpointSubset{Ports: []api.EndpointPort{{Name: "p0", Port: int32(8080 + g.pick(2))}}}
		for i := g.pick(3); i > 0; i-- {
			ss.Addresses = append(ss.Addresses, api.EndpointAddress{IP: fmt.Sprintf("10.244.0.%d", g.pick(3)+1)})
		}
		e.Subsets = []api.EndpointSubset{ss}
		return PutEndpoints{Endpoints: e, ServiceUID: api.UID(uidFor(g, string(storedUID))), UID: uid, Time: now}
	case 6, 7:
		es := sliceFor(name, name+"-"+strconv.Itoa(g.pick(2)), fmt.Sprintf("10.244.1.%d", g.pick(3)+1))
		es.Namespace = ns
		if g.pick(6) == 0 {
			es.Labels[api.LabelServiceName] = "s" + strconv.Itoa(g.pick(4))
		}
		return PutEndpointSlice{Slice: es, ServiceUID: api.UID(uidFor(g, string(storedUID))), UID: uid, Time: now}
	}
	if g.pick(2) == 0 {
		return DeleteEndpoints{Namespace: ns, Name: name}
	}
	return DeleteEndpointSlice{Namespace: ns, Name: name + "-" + strconv.Itoa(g.pick(2))}
}

// checkServices is the Services' part of checkInvariants.
func checkServices(st *state) error {
	ips := map[netip.Addr]string{}
	nodePorts := map[int32]string{}
	for _, key := range sortedKeys(st.Services) {
		svc := st.Services[key]
		if api.KeyOf(svc) != key {
			return fmt.Errorf("Service stored as %s is %s", key, api.KeyOf(svc))
		}
		if err := api.ValidateService(svc); err != nil {
			return fmt.Errorf("stored Service %s does not validate: %v", key, err)
		}
		if svc.ObjectMeta.UID == "" {
			return fmt.Errorf("Service %s has no UID", key)
		}
		sp := svc.Spec
		if sp.ClusterIP == "" {
			return fmt.Errorf("Service %s has no ClusterIP", key)
		}
		if ip, err := netip.ParseAddr(sp.ClusterIP); err == nil {
			if other, dup := ips[ip]; dup {
				return fmt.Errorf("ClusterIP %s held by %s and %s", ip, other, key)
			}
			ips[ip] = key
		}
		for i, p := range sp.Ports {
			switch {
			case api.NeedsNodePorts(svc) && p.NodePort == 0:
				return fmt.Errorf("NodePort Service %s: port %d has no node port", key, i)
			case !api.NeedsNodePorts(svc) && p.NodePort != 0:
				return fmt.Errorf("ClusterIP Service %s: port %d holds node port %d", key, i, p.NodePort)
			case p.NodePort == 0:
				continue
			}
			if other, dup := nodePorts[p.NodePort]; dup && other != key {
				return fmt.Errorf("node port %d held by %s and %s", p.NodePort, other, key)
			}
			nodePorts[p.NodePort] = key
		}
	}
	if fmt.Sprint(ips) != fmt.Sprint(st.ix.services.ips) || fmt.Sprint(nodePorts) != fmt.Sprint(st.ix.services.nodePorts) {
		return fmt.Errorf("service index %v %v, a scan finds %v %v", st.ix.services.ips, st.ix.services.nodePorts, ips, nodePorts)
	}
	for key, e := range st.Endpoints {
		if _, ok := st.Services[key]; !ok || api.KeyOf(e) != key {
			return fmt.Errorf("Endpoints %s of no stored Service", key)
		}
	}
	for key, es := range st.EndpointSlices {
		if _, ok := st.Services[api.Key(es.Namespace, es.Labels[api.LabelServiceName])]; !ok || api.KeyOf(es) != key {
			return fmt.Errorf("EndpointSlice %s of no stored Service", key)
		}
	}
	return nil
}
