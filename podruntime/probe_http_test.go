package podruntime

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

// The probe's dial goes through a network namespace; the test's own one
// stands in for the pod's, with a server on loopback.
func TestHTTPProbeStatusCodesHeadersAndHTTPS(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("entering a network namespace needs root")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Probe") != "yes" || r.Host != "example.test" {
			http.Error(w, "headers missing", http.StatusBadRequest)
		}
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusInternalServerError) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://192.0.2.1/", http.StatusFound)
	})
	for _, scheme := range []string{"HTTP", "HTTPS"} {
		var srv *httptest.Server
		if scheme == "HTTPS" {
			srv = httptest.NewTLSServer(mux)
		} else {
			srv = httptest.NewServer(mux)
		}
		_, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
		port, _ := strconv.Atoi(portStr)
		target := probeTarget{container: api.Container{Name: "c", Ports: []api.ContainerPort{{Name: "web", ContainerPort: int32(port)}}},
			host: "127.0.0.1", netnsPath: "/proc/self/ns/net"}
		headers := []api.HTTPHeader{{Name: "X-Probe", Value: "yes"}, {Name: "Host", Value: "example.test"}}
		for _, tc := range []struct {
			path    string
			headers []api.HTTPHeader
			ok      bool
			msg     string
		}{
			{"/ok", headers, true, ""},
			{"/ok", nil, false, "statuscode: 400"},
			{"/fail", headers, false, "statuscode: 500"},
			{"/moved", headers, true, ""}, // 3xx is success and is not followed
		} {
			ok, msg := httpProbe(context.Background(), &api.HTTPGetAction{Path: tc.path, Port: api.FromString("web"), Scheme: api.URIScheme(scheme), HTTPHeaders: tc.headers}, target)
			if ok != tc.ok || !strings.Contains(msg, tc.msg) {
				t.Errorf("%s %s: ok=%v msg=%q, want ok=%v msg containing %q", scheme, tc.path, ok, msg, tc.ok, tc.msg)
			}
		}
		srv.Close()
	}
}

func TestNetworkProbeWithoutPodAddressFails(t *testing.T) {
	ok, msg := httpProbe(context.Background(), &api.HTTPGetAction{Path: "/", Port: api.FromInt(80), Scheme: "HTTP"}, probeTarget{})
	if ok || !strings.Contains(msg, "no network address") {
		t.Fatalf("ok=%v msg=%q", ok, msg)
	}
}
