package agent

import (
	"context"
	"net/http"
	"strings"
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

// A client node reads the fleet's Services through the real API of a
// one-server fleet: a first read lists them, a blocking read returns once
// a new Service is stored, with its ClusterIP.
func TestClientNodeFollowsServicesThroughTheAPI(t *testing.T) {
	base := startAgent(t, "svcs", "4Gi")
	createService(t, base, "web")
	c := nodeAPIClient{name: "svcs", addr: strings.TrimPrefix(base, "http://"), http: &http.Client{Timeout: time.Minute}}
	ctx := context.Background()

	v, err := c.Services(ctx, 0, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ip, ok := serviceNamed(v, "web")
	if !ok || !strings.HasPrefix(ip, "10.96.") || v.Index == 0 {
		t.Fatalf("first view: web %q %v at index %d", ip, ok, v.Index)
	}

	// Every change of the state wakes the read (a node status, an
	// event); follow the views until the new Service is in one.
	createService(t, base, "api")
	deadline := time.Now().Add(30 * time.Second)
	for after := v.Index; ; {
		v2, err := c.Services(ctx, after, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if v2.Index < after {
			t.Fatalf("view at index %d after asking for one past %d", v2.Index, after)
		}
		if _, ok := serviceNamed(v2, "api"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no view with the new Service by index %d", v2.Index)
		}
		after = v2.Index
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
