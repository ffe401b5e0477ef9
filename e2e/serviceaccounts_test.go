package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/deploy/lab"
)

// TestServiceAccounts drives ServiceAccounts and their tokens through the
// machine's kubectl and a pod: the default ServiceAccount of a new
// namespace, kubectl create serviceaccount and create token, the token's
// rights against the API (its namespace yes, another 403, a forged one
// 401), and a pod's mounted token used from inside the pod through the
// kubernetes Service. The lab's API is open (no fleet token, plain HTTP),
// so a request without a token is the fleet's own there: the 401 of a
// tokenless request on a fleet with a token is checked against the handler
// (agent/apiserver/sa_token_test.go).
func TestServiceAccounts(t *testing.T) {
	k := startKubectlFleet(t)
	l, err := lab.Load(k.stateRoot, k.name)
	if err != nil {
		t.Fatal(err)
	}
	api := l.Nodes[1].APIURL() // a client agent: checks cross its forwarding

	k.ok("create", "namespace", "team")
	k.eventually("the default ServiceAccount", kubeContains("default"), "get", "sa", "-n", "team")
	if out := k.ok("create", "serviceaccount", "robot", "-n", "team"); !strings.Contains(out, "serviceaccount/robot created") {
		t.Fatalf("create serviceaccount:\n%s", out)
	}
	tok := strings.TrimSpace(k.ok("create", "token", "robot", "-n", "team", "--duration=10m"))

	get := func(path, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, api+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		c := &http.Client{Timeout: 30 * time.Second}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		path, token string
		code        int
		want        string
	}{
		{"/api/v1/namespaces/team/pods", tok, 200, `"kind":"PodList"`},
		{"/api/v1/nodes", tok, 200, `"kind":"NodeList"`},
		{"/api/v1/namespaces/default/pods", tok, 403,
			`pods is forbidden: User \"system:serviceaccount:team:robot\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"`},
		{"/api/v1/namespaces/team/pods", tok[:len(tok)-4] + "AAAA", 401, "signature does not match"},
	} {
		if code, body := get(c.path, c.token); code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("GET %s: %d %s, want %d %q", c.path, code, body, c.code, c.want)
		}
	}
	if out := k.ok("auth", "can-i", "list", "pods", "-n", "team", "--as=system:serviceaccount:team:robot"); strings.TrimSpace(out) != "yes" {
		t.Errorf("can-i in its namespace: %q", out)
	}
	if out := k.fails("auth", "can-i", "list", "pods", "-n", "default", "--as=system:serviceaccount:team:robot"); !strings.HasPrefix(out, "no") {
		t.Errorf("can-i in another namespace: %q", out)
	}

	// A pod of robot reads its token, namespace and the Service's address
	// and calls the API with it, as an in-cluster client does.
	k.ok("run", "caller", "-n", "team", "--image="+image, "--restart=Never", "--overrides",
		`{"spec":{"serviceAccountName":"robot"}}`, "--", "sleep", "100000")
	k.eventually("the pod running", kubeContains("Running"), "get", "pod", "caller", "-n", "team")
	// busybox nc, not wget: the image's static wget exits 139 under exec
	// (services_node_test.go's clientPod).
	call := func(ns string) string {
		return `d=/var/run/secrets/kubernetes.io/serviceaccount; printf 'GET /api/v1/namespaces/` + ns +
			`/pods HTTP/1.0\r\nHost: kubernetes\r\nAuthorization: Bearer %s\r\n\r\n' "$(cat $d/token)" | ` +
			`nc -w 5 $KUBERNETES_SERVICE_HOST $KUBERNETES_SERVICE_PORT; echo " ns=$(cat $d/namespace)"`
	}
	k.eventually("the pod listing its own namespace through the kubernetes Service", kubeContains("200 OK", `"kind":"PodList"`, `"name":"caller"`, "ns=team"),
		"exec", "caller", "-n", "team", "--", "sh", "-c", call("team"))
	if out, _ := k.try("exec", "caller", "-n", "team", "--", "sh", "-c", call("default")); !strings.Contains(out, "403 Forbidden") {
		t.Errorf("the pod's token in another namespace: %q, want 403", out)
	}
	if out := k.ok("get", "endpoints", "kubernetes", "-n", "default"); !strings.Contains(out, l.Nodes[0].Addr) || !strings.Contains(out, l.Nodes[1].Addr) {
		t.Errorf("the kubernetes Service's endpoints lack an agent:\n%s", out)
	}

	// A pod told not to mount a token has none.
	k.ok("run", "tokenless", "-n", "team", "--image="+image, "--restart=Never", "--overrides",
		`{"spec":{"automountServiceAccountToken":false}}`, "--", "sleep", "100000")
	k.eventually("the tokenless pod running", kubeContains("Running"), "get", "pod", "tokenless", "-n", "team")
	if out, _ := k.try("exec", "tokenless", "-n", "team", "--", "ls", "/var/run/secrets/kubernetes.io/serviceaccount"); !strings.Contains(out, "No such file") {
		t.Errorf("a pod without automount sees %q", out)
	}
	k.ok("delete", "namespace", "team")
	k.eventually("the namespace gone with its ServiceAccounts", func(out string) bool { return !strings.Contains(out, "robot") },
		"get", "sa", "-A")
}
