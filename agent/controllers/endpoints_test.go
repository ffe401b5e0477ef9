package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// countingSeat counts the commands the controllers propose, by type.
type countingSeat struct {
	Seat
	mu     sync.Mutex
	counts map[string]int
}

func (c *countingSeat) Apply(ctx context.Context, cmd consensus.Command) (*consensus.Result, error) {
	c.mu.Lock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[cmd.Type()]++
	c.mu.Unlock()
	return c.Seat.Apply(ctx, cmd)
}

func (c *countingSeat) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.counts
	c.counts = nil
	return out
}

// endpointsLeader is the controllers on a one-seat cluster with nodes n1
// and n2 Ready, proposing through a counting seat.
func endpointsLeader(t testing.TB) (*Leader, *consensus.TestServer, *countingSeat) {
	t.Helper()
	l, s := testLeader(t, Config{Liveness: liveness.WithGrace(time.Second)}, Deps{Members: &fakeFleet{}})
	seat := &countingSeat{Seat: l.seat}
	l.seat = seat
	registerReady(t, s, Member{Name: "n1", Addr: "10.0.0.1"})
	registerReady(t, s, Member{Name: "n2", Addr: "10.0.0.2"})
	return l, s, seat
}

// servedPod creates a pod with labels and container ports and binds it
// to node; it is Running but not Ready until setReady.
func servedPod(t testing.TB, s *consensus.TestServer, ns, name, node string, labels map[string]string, ports ...api.ContainerPort) {
	t.Helper()
	p := api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1", Ports: ports}}}}
	p.APIVersion, p.Kind = "v1", "Pod"
	uid := api.UID("uid-" + ns + "-" + name)
	apply(t, s, consensus.CreatePod{Pod: p, UID: uid, Time: time.Now().UTC()})
	ip, err := s.FSM.FreePodIP(node)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, s, consensus.BindPod{Namespace: ns, Name: name, UID: uid, Node: node, PodIP: ip.String(), Time: time.Now().UTC()})
	setReady(t, s, ns, name, false)
}

// setReady reports, as the pod's node does, whether its readiness probe
// passes.
func setReady(t testing.TB, s *consensus.TestServer, ns, name string, ready bool) {
	t.Helper()
	p, err := s.FSM.Pod(ns, name)
	if err != nil {
		t.Fatal(err)
	}
	status := "False"
	if ready {
		status = "True"
	}
	st := api.PodStatus{Phase: api.PodRunning, Conditions: []api.PodCondition{{Type: "Ready", Status: api.ConditionStatus(status)}}}
	apply(t, s, consensus.UpdatePodStatus{Namespace: ns, Name: name, UID: p.ObjectMeta.UID, Node: p.Spec.NodeName, Status: st, Time: time.Now().UTC()})
}

func webService(ports ...api.ServicePort) api.Service {
	svc := api.Service{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"tier": "front"}},
		Spec: api.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: ports}}
	svc.APIVersion, svc.Kind = "v1", "Service"
	return svc
}

func createService(t testing.TB, s *consensus.TestServer, svc api.Service) {
	t.Helper()
	apply(t, s, consensus.ApplyService{Service: svc, Create: true, UID: api.UID("svc-uid-" + svc.ObjectMeta.Name), Time: time.Now().UTC()})
}

func pass(t *testing.T, l *Leader, s *consensus.TestServer) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := l.syncEndpoints(ctx, s.FSM)
	if err != nil {
		t.Fatalf("endpoints pass: %v", err)
	}
	return n
}

// endpointsView prints a Service's v1 Endpoints as "ready: pod[ports] ...
// | notReady: ...", pods by name, each with the ports of its subset.
func endpointsView(t *testing.T, s *consensus.TestServer, ns, name string) string {
	t.Helper()
	e, err := s.FSM.Endpoints(ns, name)
	if err != nil {
		return "none"
	}
	var ready, notReady []string
	for _, ss := range e.Subsets {
		var ports []string
		for _, p := range ss.Ports {
			ports = append(ports, fmt.Sprintf("%s=%d", p.Name, p.Port))
		}
		pp := strings.Join(ports, ",")
		for _, a := range ss.Addresses {
			ready = append(ready, a.TargetRef.Name+"["+pp+"]@"+*a.NodeName)
		}
		for _, a := range ss.NotReadyAddresses {
			notReady = append(notReady, a.TargetRef.Name+"["+pp+"]@"+*a.NodeName)
		}
	}
	sort.Strings(ready)
	sort.Strings(notReady)
	return "ready: " + strings.Join(ready, " ") + " | notReady: " + strings.Join(notReady, " ")
}

// slicesView prints a Service's EndpointSlices as one "pod[ports]
// ready/serving/terminating" per endpoint, and checks what every slice
// carries whatever its endpoints.
func slicesView(t *testing.T, s *consensus.TestServer, ns, name string) string {
	t.Helper()
	slices, _ := s.FSM.EndpointSlices(func(es *api.EndpointSlice) bool {
		return es.ObjectMeta.Namespace == ns && es.ObjectMeta.Labels[api.LabelServiceName] == name
	})
	if len(slices) == 0 {
		return "none"
	}
	var out []string
	for _, es := range slices {
		if es.ObjectMeta.Labels[api.LabelManagedBy] != api.EndpointSliceController || es.AddressType != api.AddressTypeIPv4 ||
			!strings.HasPrefix(es.ObjectMeta.Name, name+"-") {
			t.Fatalf("slice %s: labels %v, addressType %s", es.ObjectMeta.Name, es.ObjectMeta.Labels, es.AddressType)
		}
		var ports []string
		for _, p := range es.Ports {
			ports = append(ports, fmt.Sprintf("%s=%d", *p.Name, *p.Port))
		}
		pp := strings.Join(ports, ",")
		for _, ep := range es.Endpoints {
			c := ep.Conditions
			p, err := s.FSM.Pod(ep.TargetRef.Namespace, ep.TargetRef.Name)
			if err != nil || p.Status.PodIP != ep.Addresses[0] || p.ObjectMeta.UID != ep.TargetRef.UID || ep.TargetRef.Kind != "Pod" || *ep.NodeName != p.Spec.NodeName {
				t.Fatalf("slice %s endpoint %+v does not match its pod (%v)", es.ObjectMeta.Name, ep, err)
			}
			out = append(out, fmt.Sprintf("%s[%s]%s", ep.TargetRef.Name, pp, conds(*c.Ready, *c.Serving, *c.Terminating)))
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return fmt.Sprintf("empty(%d)", len(slices))
	}
	return strings.Join(out, " ")
}

func conds(ready, serving, terminating bool) string {
	s := ""
	for _, c := range []struct {
		on   bool
		name string
	}{{ready, "R"}, {serving, "S"}, {terminating, "T"}} {
		if c.on {
			s += c.name
		} else {
			s += "-"
		}
	}
	return s
}

func TestEndpointsFollowReadyPodsTheirPortsAndTheirNodes(t *testing.T) {
	l, s, seat := endpointsLeader(t)
	web := map[string]string{"app": "web"}
	metrics := func(port int32) api.ContainerPort { return api.ContainerPort{Name: "metrics", ContainerPort: port} }
	servedPod(t, s, "default", "a", "n1", web, metrics(9101))
	servedPod(t, s, "default", "b", "n2", web) // has no port named metrics
	servedPod(t, s, "default", "c", "n1", web, metrics(9102))
	servedPod(t, s, "default", "db", "n1", map[string]string{"app": "db"}, metrics(9100))
	servedPod(t, s, "other", "a", "n2", web, metrics(9101))
	for _, p := range []struct{ ns, name string }{{"default", "a"}, {"default", "b"}, {"default", "db"}, {"other", "a"}} {
		setReady(t, s, p.ns, p.name, true)
	}
	createService(t, s, webService(
		api.ServicePort{Name: "http", Port: 80, TargetPort: api.FromInt(8080)},
		api.ServicePort{Name: "metrics", Port: 9100, TargetPort: api.FromString("metrics")}))
	seat.take()

	steps := []struct {
		name          string
		change        func()
		eps, slices   string
		writesAtLeast int
	}{
		{name: "3 pods selected, 2 Ready: named ports resolved per pod, a pod without the name serves only the numbered port",
			change: func() {},
			eps:    "ready: a[http=8080,metrics=9101]@n1 b[http=8080]@n2 | notReady: c[http=8080,metrics=9102]@n1",
			slices: "a[http=8080,metrics=9101]RS- b[http=8080]RS- c[http=8080,metrics=9102]---"},
		{name: "a pod turning Ready is added",
			change: func() { setReady(t, s, "default", "c", true) },
			eps:    "ready: a[http=8080,metrics=9101]@n1 b[http=8080]@n2 c[http=8080,metrics=9102]@n1 | notReady: ",
			slices: "a[http=8080,metrics=9101]RS- b[http=8080]RS- c[http=8080,metrics=9102]RS-"},
		{name: "the pods of a node declared NotReady leave the ready endpoints",
			change: func() {
				apply(t, s, consensus.SetNodeCondition{Name: "n1", Ready: false, Reason: "NodeLost", Time: time.Now().UTC()})
			},
			eps:    "ready: b[http=8080]@n2 | notReady: a[http=8080,metrics=9101]@n1 c[http=8080,metrics=9102]@n1",
			slices: "a[http=8080,metrics=9101]--- b[http=8080]RS- c[http=8080,metrics=9102]---"},
		{name: "the node back Ready and its agent reporting again, a pod deleted",
			change: func() {
				apply(t, s, consensus.SetNodeCondition{Name: "n1", Ready: true, Reason: "AgentReady", Time: time.Now().UTC()})
				setReady(t, s, "default", "a", true)
				setReady(t, s, "default", "c", true)
				apply(t, s, consensus.DeletePod{Namespace: "default", Name: "b"})
			},
			eps:    "ready: a[http=8080,metrics=9101]@n1 c[http=8080,metrics=9102]@n1 | notReady: ",
			slices: "a[http=8080,metrics=9101]RS- c[http=8080,metrics=9102]RS-"},
	}
	for _, st := range steps {
		st.change()
		seat.take()
		if n := pass(t, l, s); n == 0 {
			t.Fatalf("%s: the pass wrote nothing", st.name)
		}
		if got := endpointsView(t, s, "default", "web"); got != st.eps {
			t.Fatalf("%s: endpoints\n got  %s\n want %s", st.name, got, st.eps)
		}
		if got := slicesView(t, s, "default", "web"); got != st.slices {
			t.Fatalf("%s: slices\n got  %s\n want %s", st.name, got, st.slices)
		}
		// Nothing changed since: the next pass proposes nothing at all.
		seat.take()
		if n := pass(t, l, s); n != 0 {
			t.Fatalf("%s: a pass with nothing changed proposed %d writes: %v", st.name, n, seat.take())
		}
		if c := seat.take(); len(c) != 0 {
			t.Fatalf("%s: a pass with nothing changed applied %v", st.name, c)
		}
	}
	// The slice of b's port set ({http}) was emptied by b's deletion and
	// is gone, not left behind empty.
	slices, _ := s.FSM.EndpointSlices(nil)
	for _, es := range slices {
		if len(es.Endpoints) == 0 {
			t.Fatalf("empty slice %s left behind beside slices with endpoints", es.ObjectMeta.Name)
		}
	}

	apply(t, s, consensus.DeleteService{Namespace: "default", Name: "web"})
	seat.take()
	if n := pass(t, l, s); n != 0 {
		t.Fatalf("after the Service's deletion the pass proposed %d writes: %v", n, seat.take())
	}
	if got := endpointsView(t, s, "default", "web"); got != "none" {
		t.Fatalf("endpoints of a deleted Service: %s", got)
	}
	if got := slicesView(t, s, "default", "web"); got != "none" {
		t.Fatalf("slices of a deleted Service: %s", got)
	}
}

func TestEndpointsOfServiceWithoutPodsWithoutSelectorAndChangedPorts(t *testing.T) {
	l, s, _ := endpointsLeader(t)
	// No pod selected: empty Endpoints and one empty slice, as Kubernetes
	// keeps them.
	createService(t, s, webService(api.ServicePort{Name: "http", Port: 80, TargetPort: api.FromInt(8080)}))
	manual := webService(api.ServicePort{Name: "http", Port: 80})
	manual.ObjectMeta.Name, manual.Spec.Selector = "manual", nil
	createService(t, s, manual)
	pass(t, l, s)
	if got := endpointsView(t, s, "default", "web"); got != "ready:  | notReady: " {
		t.Fatalf("endpoints of a Service that selects nothing: %s", got)
	}
	if got := slicesView(t, s, "default", "web"); got != "empty(1)" {
		t.Fatalf("slices of a Service that selects nothing: %s", got)
	}
	e, _ := s.FSM.Endpoints("default", "web")
	if e.ObjectMeta.Labels["tier"] != "front" {
		t.Fatalf("endpoints carry the Service's labels: %v", e.ObjectMeta.Labels)
	}
	if got := endpointsView(t, s, "default", "manual"); got != "none" {
		t.Fatalf("a Service without a selector got endpoints: %s", got)
	}
	if got := slicesView(t, s, "default", "manual"); got != "none" {
		t.Fatalf("a Service without a selector got slices: %s", got)
	}

	// A pod appears, then the Service's targetPort changes: the slice of
	// the old port set is deleted, not left beside the new one.
	servedPod(t, s, "default", "a", "n1", map[string]string{"app": "web"})
	setReady(t, s, "default", "a", true)
	pass(t, l, s)
	if got := slicesView(t, s, "default", "web"); got != "a[http=8080]RS-" {
		t.Fatalf("slices: %s", got)
	}
	svc, err := s.FSM.Service("default", "web")
	if err != nil {
		t.Fatal(err)
	}
	svc.Spec.Ports[0].TargetPort = api.FromInt(8081)
	apply(t, s, consensus.ApplyService{Service: *svc, Time: time.Now().UTC()})
	pass(t, l, s)
	if got := slicesView(t, s, "default", "web"); got != "a[http=8081]RS-" {
		t.Fatalf("slices after the targetPort changed: %s", got)
	}
	if got := endpointsView(t, s, "default", "web"); got != "ready: a[http=8081]@n1 | notReady: " {
		t.Fatalf("endpoints after the targetPort changed: %s", got)
	}
}

func TestEndpointsControllerWakesOnStateChanges(t *testing.T) {
	l, s, _ := endpointsLeader(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.endpointsController(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	servedPod(t, s, "default", "a", "n1", map[string]string{"app": "web"})
	createService(t, s, webService(api.ServicePort{Port: 80}))
	eventually(t, "the not-ready pod is listed not ready", func() bool {
		return endpointsView(t, s, "default", "web") == "ready:  | notReady: a[=80]@n1"
	})
	setReady(t, s, "default", "a", true)
	eventually(t, "the pod turned Ready is a ready endpoint", func() bool {
		return endpointsView(t, s, "default", "web") == "ready: a[=80]@n1 | notReady: " &&
			slicesView(t, s, "default", "web") == "a[=80]RS-"
	})
}

// endpointPods reads pods as a pass does; pods that can be no endpoint
// are left out.
func endpointPods(pods []*api.Pod) []*endpointPod {
	var out []*endpointPod
	for _, p := range pods {
		if ep := newEndpointPod(p); ep != nil {
			out = append(out, ep)
		}
	}
	return out
}

func TestPlanEndpoints(t *testing.T) {
	ready := map[string]bool{"n1": true}
	pod := func(name string, mod func(*api.Pod)) *api.Pod {
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", UID: api.UID("uid-" + name)},
			Spec: api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "c", Ports: []api.ContainerPort{{Name: "dns", ContainerPort: 5353, Protocol: api.ProtocolUDP}}}}},
			Status: api.PodStatus{Phase: api.PodRunning, PodIP: "10.244.0." + fmt.Sprint(len(name)+1),
				Conditions: []api.PodCondition{{Type: "Ready", Status: "True"}}}}
		if mod != nil {
			mod(p)
		}
		return p
	}
	svc := func(headless bool, ports ...api.ServicePort) *api.Service {
		s := &api.Service{ObjectMeta: api.ObjectMeta{Name: "svc", Namespace: "default", UID: "svc-uid"},
			Spec: api.ServiceSpec{Selector: map[string]string{"app": "x"}, Ports: ports}}
		if headless {
			s.Spec.ClusterIP = api.ClusterIPNone
		}
		api.Default(s)
		return s
	}
	summary := func(d desiredEndpoints) string {
		var b strings.Builder
		for _, ss := range d.endpoints.Subsets {
			fmt.Fprintf(&b, "subset ports=%d ready=%d notReady=%d; ", len(ss.Ports), len(ss.Addresses), len(ss.NotReadyAddresses))
		}
		for _, es := range d.slices {
			var eps []string
			for _, ep := range es.Endpoints {
				c := ep.Conditions
				eps = append(eps, ep.TargetRef.Name+conds(*c.Ready, *c.Serving, *c.Terminating))
			}
			fmt.Fprintf(&b, "slice ports=%d [%s]; ", len(es.Ports), strings.Join(eps, " "))
		}
		return b.String()
	}
	deleting := api.TimeOf(time.Unix(1e9, 0))
	cases := []struct {
		name string
		svc  *api.Service
		pods []*api.Pod
		want string
	}{
		{name: "terminating pod: out of v1 Endpoints, in the slice serving but not ready",
			svc:  svc(false, api.ServicePort{Port: 53, TargetPort: api.FromInt(53)}),
			pods: []*api.Pod{pod("a", nil), pod("bb", func(p *api.Pod) { p.ObjectMeta.DeletionTimestamp = &deleting })},
			want: "subset ports=1 ready=1 notReady=0; slice ports=1 [aRS- bb-ST]; "},
		{name: "terminating pod that failed readiness: neither ready nor serving",
			svc: svc(false, api.ServicePort{Port: 53}),
			pods: []*api.Pod{pod("a", func(p *api.Pod) {
				p.ObjectMeta.DeletionTimestamp = &deleting
				p.Status.Conditions[0].Status = "False"
			})},
			want: "slice ports=1 [a--T]; "},
		{name: "finished pods and pods without an address are no endpoints",
			svc: svc(false, api.ServicePort{Port: 53}),
			pods: []*api.Pod{pod("a", func(p *api.Pod) { p.Status.Phase = api.PodSucceeded }),
				pod("bb", func(p *api.Pod) { p.Status.PodIP = "" })},
			want: "slice ports=0 []; "},
		{name: "a named port matches only its protocol",
			svc: svc(false, api.ServicePort{Name: "tcp", Port: 53, TargetPort: api.FromString("dns")},
				api.ServicePort{Name: "udp", Port: 53, Protocol: api.ProtocolUDP, TargetPort: api.FromString("dns")}),
			pods: []*api.Pod{pod("a", nil)},
			want: "subset ports=1 ready=1 notReady=0; slice ports=1 [aRS-]; "},
		{name: "a pod serving none of the ports: no v1 address, a slice without ports",
			svc:  svc(false, api.ServicePort{Name: "web", Port: 80, TargetPort: api.FromString("web")}),
			pods: []*api.Pod{pod("a", nil)},
			want: "slice ports=0 [aRS-]; "},
		{name: "headless without ports lists its pods without ports",
			svc:  svc(true),
			pods: []*api.Pod{pod("a", nil), pod("bb", func(p *api.Pod) { p.Spec.NodeName = "n9" })},
			want: "subset ports=0 ready=1 notReady=1; slice ports=0 [aRS- bb---]; "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := planEndpoints(c.svc, endpointPods(c.pods), ready)
			if got := summary(d); got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
			if err := api.ValidateEndpoints(d.endpoints); err != nil {
				t.Fatalf("invalid endpoints: %v", err)
			}
			for _, es := range d.slices {
				if err := api.ValidateEndpointSlice(es); err != nil {
					t.Fatalf("invalid slice: %v", err)
				}
			}
		})
	}
	d := planEndpoints(svc(true), nil, ready)
	if d.endpoints.ObjectMeta.Labels[labelHeadless] != "" || len(d.endpoints.ObjectMeta.Labels) != 1 {
		t.Fatalf("headless Service's endpoints labels: %v", d.endpoints.ObjectMeta.Labels)
	}
}

func TestPlanEndpointsSplitsLargeGroupsIntoSlices(t *testing.T) {
	s := &api.Service{ObjectMeta: api.ObjectMeta{Name: "svc", Namespace: "default", UID: "svc-uid"},
		Spec: api.ServiceSpec{Selector: map[string]string{"app": "x"}, Ports: []api.ServicePort{{Port: 80}}}}
	var pods []*api.Pod
	for i := range 250 {
		pods = append(pods, &api.Pod{ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("p%03d", i), Namespace: "default"},
			Spec:   api.PodSpec{NodeName: "n1"},
			Status: api.PodStatus{PodIP: fmt.Sprintf("10.244.%d.%d", i/200, i%200+1)}})
	}
	d := planEndpoints(s, endpointPods(pods), nil)
	var sizes []int
	names := map[string]bool{}
	for _, es := range d.slices {
		sizes = append(sizes, len(es.Endpoints))
		names[es.ObjectMeta.Name] = true
	}
	if fmt.Sprint(sizes) != "[100 100 50]" || len(names) != 3 {
		t.Fatalf("slices of 250 endpoints: sizes %v, %d names", sizes, len(names))
	}
}

func TestPodIndexSelectsAllPairsInNamespace(t *testing.T) {
	mk := func(ns, name string, labels map[string]string) *api.Pod {
		return &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, Status: api.PodStatus{PodIP: "10.244.0.2"}}
	}
	ix := podIndex{}
	for _, p := range endpointPods([]*api.Pod{
		mk("a", "both", map[string]string{"app": "web", "tier": "front"}),
		mk("a", "app", map[string]string{"app": "web"}),
		mk("a", "tier", map[string]string{"tier": "front"}),
		mk("b", "both", map[string]string{"app": "web", "tier": "front"}),
	}) {
		ix.add(p)
	}
	got := ix.selected("a", map[string]string{"app": "web", "tier": "front"})
	if len(got) != 1 || got[0].name != "both" || got[0].namespace != "a" {
		t.Fatalf("selected %+v", got)
	}
	if got := ix.selected("a", map[string]string{"app": "web", "tier": "back"}); len(got) != 0 {
		t.Fatalf("selected %+v", got)
	}
}

// racingSeat runs before, once, ahead of the first write it is asked for:
// a change that lands between a pass's reads and its writes.
type racingSeat struct {
	Seat
	once   sync.Once
	before func()
}

func (r *racingSeat) Apply(ctx context.Context, cmd consensus.Command) (*consensus.Result, error) {
	r.once.Do(r.before)
	return r.Seat.Apply(ctx, cmd)
}

func TestEndpointsPassLeavesToTheNextPassWhatMovedUnderIt(t *testing.T) {
	l, s, _ := endpointsLeader(t)
	servedPod(t, s, "default", "a", "n1", map[string]string{"app": "web"})
	setReady(t, s, "default", "a", true)
	createService(t, s, webService(api.ServicePort{Port: 80}))
	// The Service is replaced (same name, new UID) after the pass read it:
	// its writes, made for the old Service, are refused, and that is no
	// error; the next pass writes for the new one.
	replaced := webService(api.ServicePort{Port: 8080})
	l.seat = &racingSeat{Seat: l.seat, before: func() {
		// On a writer's goroutine: report, do not stop the test here.
		for _, cmd := range []consensus.Command{consensus.DeleteService{Namespace: "default", Name: "web"},
			consensus.ApplyService{Service: replaced, Create: true, UID: "svc-uid-web-2", Time: time.Now().UTC()}} {
			if _, err := s.Raft.Apply(context.Background(), cmd); err != nil {
				t.Errorf("replace the Service: %v", err)
			}
		}
	}}
	if n := pass(t, l, s); n != 2 {
		t.Fatalf("first pass proposed %d writes, want 2", n)
	}
	if got := endpointsView(t, s, "default", "web"); got != "none" {
		t.Fatalf("endpoints written for a Service since replaced: %s", got)
	}
	pass(t, l, s)
	e, err := s.FSM.Endpoints("default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if got := endpointsView(t, s, "default", "web"); got != "ready: a[=8080]@n1 | notReady: " {
		t.Fatalf("endpoints of the new Service: %s", got)
	}
	slices, _ := s.FSM.EndpointSlices(nil)
	if len(slices) != 1 || slices[0].ObjectMeta.OwnerReferences[0].UID != "svc-uid-web-2" || e.ObjectMeta.Name != "web" {
		t.Fatalf("slices after the replacement: %+v", slices)
	}
}

func TestHeadlessServicesGetEndpoints(t *testing.T) {
	l, s, _ := endpointsLeader(t)
	servedPod(t, s, "default", "a", "n1", map[string]string{"app": "web"})
	setReady(t, s, "default", "a", true)
	servedPod(t, s, "default", "b", "n2", map[string]string{"app": "web"})
	withPorts := webService(api.ServicePort{Name: "http", Port: 80})
	withPorts.ObjectMeta.Name, withPorts.Spec.ClusterIP = "web-headless", api.ClusterIPNone
	noPorts := webService()
	noPorts.ObjectMeta.Name, noPorts.Spec.ClusterIP = "web-noports", api.ClusterIPNone
	createService(t, s, withPorts)
	createService(t, s, noPorts)
	pass(t, l, s)
	for _, c := range []struct{ name, eps, slices string }{
		{"web-headless", "ready: a[http=80]@n1 | notReady: b[http=80]@n2", "a[http=80]RS- b[http=80]---"},
		{"web-noports", "ready: a[]@n1 | notReady: b[]@n2", "a[]RS- b[]---"},
	} {
		if got := endpointsView(t, s, "default", c.name); got != c.eps {
			t.Fatalf("%s endpoints: got %s, want %s", c.name, got, c.eps)
		}
		if got := slicesView(t, s, "default", c.name); got != c.slices {
			t.Fatalf("%s slices: got %s, want %s", c.name, got, c.slices)
		}
		e, _ := s.FSM.Endpoints("default", c.name)
		if v, ok := e.ObjectMeta.Labels[labelHeadless]; !ok || v != "" {
			t.Fatalf("%s endpoints not marked headless: %v", c.name, e.ObjectMeta.Labels)
		}
	}
	if n := pass(t, l, s); n != 0 {
		t.Fatalf("a settled pass over headless Services proposed %d writes", n)
	}
}
