package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/shoal-dev/shoal/agent/node"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

func createService(t *testing.T, base, name string) {
	t.Helper()
	body := `{"apiVersion":"v1","kind":"Service","metadata":{"name":"` + name + `"},"spec":{"selector":{"app":"` + name + `"},"ports":[{"name":"http","port":80,"targetPort":8080}]}}`
	resp, err := http.Post(base+"/api/v1/namespaces/default/services", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create service %s: HTTP %d", name, resp.StatusCode)
	}
}

func serviceNamed(v *node.ServiceView, name string) (clusterIP string, ok bool) {
	for _, s := range v.Services {
		if s.ObjectMeta.Name == name {
			return s.Spec.ClusterIP, true
		}
	}
	return "", false
}

// A client node follows the fleet's Services through watches on the real
// API of a one-server fleet: a first read has them, a blocking read
// returns once a new Service is stored, with its ClusterIP, and a deleted
// one leaves the next view.
func TestClientNodeFollowsServicesThroughTheAPI(t *testing.T) {
	base := startAgent(t, "svcs", "4Gi")
	createService(t, base, "web")
	c := nodeAPIClient{name: "svcs", addr: strings.TrimPrefix(base, "http://"), http: &http.Client{Timeout: time.Minute}}
	w := newWatchedServices(c, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	v, err := w.Services(ctx, 0, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ip, ok := serviceNamed(v, "web")
	if !ok || !strings.HasPrefix(ip, "10.96.") || v.Index == 0 || v.PodIPs == nil {
		t.Fatalf("first view: web %q %v at index %d (pod set %v)", ip, ok, v.Index, v.PodIPs != nil)
	}

	// Only Service and EndpointSlice events wake the read; follow the
	// views until the new Service is in one.
	follow := func(what string, done func(*node.ServiceView) bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for after := v.Index; ; {
			v2, err := w.Services(ctx, after, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if v2.Index < after {
				t.Fatalf("view at index %d after asking for one past %d", v2.Index, after)
			}
			if done(v2) {
				v = v2
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no view with %s by index %d", what, v2.Index)
			}
			after = v2.Index
		}
	}
	createService(t, base, "api")
	follow("the new Service", func(v *node.ServiceView) bool { _, ok := serviceNamed(v, "api"); return ok })
	req, _ := http.NewRequest(http.MethodDelete, base+"/api/v1/namespaces/default/services/web", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delete web: HTTP %d", resp.StatusCode)
	}
	follow("web gone", func(v *node.ServiceView) bool { _, ok := serviceNamed(v, "web"); return !ok })
}

// The client's cache from watch events: a pod's address is in the pod set
// as soon as its event comes and wakes no view (DNS reads the set), a
// Service event wakes the waiting read, an ERROR 410 asks for a new list.
func TestClientServiceCacheFromWatchEvents(t *testing.T) {
	w := newWatchedServices(nodeAPIClient{}, slog.New(slog.DiscardHandler))
	pod := func(ip string) *watchedObject {
		var o watchedObject
		o.Status.PodIP = ip
		return &o
	}
	for _, path := range watchedKinds {
		if err := w.replace(path, nil, 10); err != nil {
			t.Fatal(err)
		}
	}
	a := node.PodAddr{Namespace: "default", IP: netip.MustParseAddr("10.244.1.5")}
	woke := w.changed
	if err := w.apply(watchPods, "MODIFIED", "default/p1", nil, pod("10.244.1.5"), 11); err != nil {
		t.Fatal(err)
	}
	if !w.HasPodIP(a) || w.HasPodIP(node.PodAddr{Namespace: "other", IP: a.IP}) {
		t.Fatal("the pod's address is not in its namespace's pod set (or is in another's)")
	}
	select {
	case <-woke:
		t.Fatal("a pod event woke the Services read")
	default:
	}
	if w.index != 10 {
		t.Fatalf("a pod event moved the view to index %d", w.index)
	}
	// A second pod with the same address (a replacement starting before
	// the old one is gone) keeps it when the first goes.
	if err := w.apply(watchPods, "ADDED", "default/p2", nil, pod("10.244.1.5"), 12); err != nil {
		t.Fatal(err)
	}
	if err := w.apply(watchPods, "DELETED", "default/p1", nil, pod("10.244.1.5"), 13); err != nil {
		t.Fatal(err)
	}
	if !w.HasPodIP(a) {
		t.Fatal("the address left with one of the two pods that had it")
	}
	if err := w.apply(watchPods, "DELETED", "default/p2", nil, pod("10.244.1.5"), 14); err != nil {
		t.Fatal(err)
	}
	if w.HasPodIP(a) {
		t.Fatal("the address stayed after its last pod went")
	}

	raw := []byte(`{"metadata":{"namespace":"default","name":"web","resourceVersion":"15"},"spec":{"clusterIP":"10.96.0.9"}}`)
	if err := w.apply(watchServices, "ADDED", "default/web", raw, &watchedObject{}, 15); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woke:
	default:
		t.Fatal("a Service event did not wake the Services read")
	}
	v, err := w.Services(context.Background(), 14, time.Second)
	if err != nil || v.Index != 15 {
		t.Fatalf("view after the Service event: %v, %v", v, err)
	}
	if ip, ok := serviceNamed(v, "web"); !ok || ip != "10.96.0.9" {
		t.Fatalf("view: web %q %v", ip, ok)
	}
	if err := w.apply(watchServices, "BOGUS", "default/web", raw, &watchedObject{}, 16); err == nil {
		t.Fatal("an unknown event type was taken")
	}
}

// A watch the server answers with 410 Expired starts again from a list.
func TestClientWatchListsAgainAfterExpiry(t *testing.T) {
	var (
		mu   sync.Mutex
		asks []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asks = append(asks, r.URL.RawQuery)
		n := len(asks)
		mu.Unlock()
		if r.URL.Query().Get("resourceVersion") == "7" {
			fmt.Fprintln(rw, `{"type":"ERROR","object":{"kind":"Status","status":"Failure","reason":"Expired","code":410,"message":"too old"}}`)
			return
		}
		if n == 2 {
			// A list cut short (after a periodic bookmark) is listed again.
			fmt.Fprintln(rw, `{"type":"ADDED","object":{"metadata":{"namespace":"default","name":"old","resourceVersion":"3"}}}`)
			fmt.Fprintln(rw, `{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"25"}}}`)
			return
		}
		fmt.Fprintln(rw, `{"type":"ADDED","object":{"metadata":{"namespace":"default","name":"web","resourceVersion":"20"},"spec":{"clusterIP":"10.96.0.9"}}}`)
		fmt.Fprintln(rw, `{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"30","annotations":{"k8s.io/initial-events-end":"true"}}}}`)
	}))
	defer srv.Close()
	w := newWatchedServices(nodeAPIClient{addr: strings.TrimPrefix(srv.URL, "http://"), http: srv.Client()}, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	next, err := w.watch(ctx, watchServices, 7)
	if !errors.Is(err, errWatchExpired) || next != 0 {
		t.Fatalf("watch from an expired resourceVersion: next %d, %v", next, err)
	}
	next, err = w.watch(ctx, watchServices, next)
	if err != nil || next != 0 || w.synced[watchServices] {
		t.Fatalf("a list cut short: next %d, %v, synced %v", next, err, w.synced)
	}
	next, err = w.watch(ctx, watchServices, next)
	if err != nil || next != 30 {
		t.Fatalf("the new list: next %d, %v", next, err)
	}
	if _, ok := w.services["default/web"]; !ok || len(w.services) != 1 || w.index != 30 || !w.synced[watchServices] {
		t.Fatalf("cache after the list: %v at index %d, synced %v", w.services, w.index, w.synced)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asks) != 3 || !strings.Contains(asks[0], "resourceVersion=7") || !strings.Contains(asks[1], "sendInitialEvents=true") || !strings.Contains(asks[2], "sendInitialEvents=true") {
		t.Fatalf("queries %q", asks)
	}
}

// A server node reads Services, their slices and pod addresses from its
// own state machine; node.Services turns the view into DNS answers.
func TestServerNodeReadsServicesFromItsOwnState(t *testing.T) {
	fsm := consensus.NewFSM()
	var svc api.Service
	svc.ObjectMeta.Namespace, svc.ObjectMeta.Name = "default", "web"
	svc.Spec.Selector = map[string]string{"app": "web"}
	svc.Spec.Ports = []api.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}}
	res, err := fsm.ApplyCommand(1, consensus.ApplyService{Service: svc, Create: true, UID: "svc-uid", Time: time.Unix(1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	clusterIP := res.Service.Spec.ClusterIP
	var es api.EndpointSlice
	es.ObjectMeta.Namespace, es.ObjectMeta.Name = "default", "web-abc"
	es.ObjectMeta.Labels = map[string]string{discoveryv1.LabelServiceName: "web"}
	es.AddressType = discoveryv1.AddressTypeIPv4
	port, name, ready := int32(8080), "http", true
	es.Ports = []discoveryv1.EndpointPort{{Name: &name, Port: &port}}
	es.Endpoints = []discoveryv1.Endpoint{{Addresses: []string{"10.244.1.5"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}}
	if _, err := fsm.ApplyCommand(2, consensus.PutEndpointSlice{Slice: es, ServiceUID: "svc-uid", UID: "es-uid", Time: time.Unix(2, 0)}); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	v, err := localServices(ctx, fsm, 0, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Services) != 1 || len(v.Slices) != 1 || v.Index != 2 {
		t.Fatalf("view: %d services, %d slices at index %d", len(v.Services), len(v.Slices), v.Index)
	}
	// Nothing newer than index 2: the read waits its whole wait.
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if v2, err := localServices(wctx, fsm, 2, 50*time.Millisecond); err != nil || v2.Index != 2 {
		t.Fatalf("idle read: %v, %v", v2, err)
	}

	s, err := node.NewServices(node.ServiceConfig{}, stateSource{fsm}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go s.Run(rctx)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got, ok := s.Service("default", "web"); ok {
			if got.ClusterIP.String() != clusterIP || len(got.Endpoints) != 1 || got.Endpoints[0].IP.String() != "10.244.1.5" {
				t.Fatalf("DNS view of web: %+v (ClusterIP %s)", got, clusterIP)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("web never reached the DNS view")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stateSource is the server's source without an Agent around it.
type stateSource struct{ st serviceState }

func (s stateSource) Services(ctx context.Context, after uint64, wait time.Duration) (*node.ServiceView, error) {
	return localServices(ctx, s.st, after, wait)
}
