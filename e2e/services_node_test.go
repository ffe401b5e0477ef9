package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// webServer is a pod on node that answers GET /cgi-bin/ip with the
// caller's address as it sees it and its own hostname (the pod's name),
// on the container port named http.
func webServer(name, node string) string {
	return `apiVersion: v1
kind: Pod
metadata:
  name: ` + name + `
  labels: {app: web}
spec:
  nodeSelector: {kubernetes.io/hostname: ` + node + `}
  containers:
  - name: main
    image: ` + image + `
    ports:
    - {name: http, containerPort: 8080}
    command:
    - sh
    - -c
    - |
      mkdir -p /www/cgi-bin
      cat > /www/cgi-bin/ip <<'EOF'
      #!/bin/sh
      echo "Content-Type: text/plain"
      echo
      echo "$REMOTE_ADDR $(hostname)"
      EOF
      chmod +x /www/cgi-bin/ip
      exec httpd -f -p 8080 -h /www
`
}

// clientPod runs with dnsPolicy (ClusterFirst or Default). Requests go
// through busybox nc: the image's static busybox wget exits 139 (SIGSEGV)
// under `shoal exec` in these pods, with or without the cluster
// resolv.conf (in a pod's own command it works: skeleton_test.go); the
// cause is not found yet.
func clientPod(name, node, dnsPolicy string) string {
	return `apiVersion: v1
kind: Pod
metadata:
  name: ` + name + `
spec:
  dnsPolicy: ` + dnsPolicy + `
  nodeSelector: {kubernetes.io/hostname: ` + node + `}
  containers:
  - name: main
    image: ` + image + `
    command: ["sh", "-c", "exec sleep 3600"]
`
}

// The Service targets the servers' port by its name.
const webService = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {name: web, port: 80, targetPort: http}
`

// webExtraServices serve the web pods as a NodePort Service with an
// external IP and ClientIP affinity, and as a headless one.
const webExtraServices = `apiVersion: v1
kind: Service
metadata:
  name: webx
spec:
  type: NodePort
  selector: {app: web}
  externalIPs: [192.0.2.80]
  sessionAffinity: ClientIP
  ports:
  - {name: web, port: 80, targetPort: http}
---
apiVersion: v1
kind: Service
metadata:
  name: webh
spec:
  clusterIP: None
  selector: {app: web}
  ports:
  - {name: web, port: 80, targetPort: http}
`

// TestServicesOnTheNodes runs Services on a 3-node lab with one Raft
// seat, so that n2 and n3 follow the Services as clients do (through a
// server) and n1 from its own state: two servers behind a Service (n1,
// n3), clients on n2 and n1. Through the ClusterIP every request reaches
// a server that sees the client pod's own IP (no SNAT), both servers
// answer, the name resolves through the node's DNS, a deleted server and
// a partitioned node's server stop getting traffic, and the rules live
// in the node namespaces only.
func TestServicesOnTheNodes(t *testing.T) {
	requireE2E(t)
	// Registered first, so it runs after the lab is down: nothing of
	// shoal's is left in the host namespace.
	t.Cleanup(func() { checkNoHostTable(t) })
	f := startFleet(t, labName("svn"), "--nodes", "3", "--servers", "1")
	// Registered after the lab's teardown, so it runs before it.
	t.Cleanup(func() {
		if t.Failed() {
			f.dumpServices()
		}
	})
	f.importBusybox()
	f.apply(webServer("srv-a", "n1"))
	f.apply(webServer("srv-b", "n3"))
	f.apply(clientPod("cli", "n2", "Default"))
	f.apply(clientPod("cli1", "n1", "Default"))
	f.apply(clientPod("dns", "n2", "ClusterFirst"))
	f.apply(webService)
	pods := map[string]*api.Pod{}
	for _, name := range []string{"srv-a", "srv-b", "cli", "cli1", "dns"} {
		pods[name] = f.waitPod(name, "running", running)
	}
	out := f.run("get", "svc", "web", "-o", "json")
	var svc api.Service
	if err := json.Unmarshal([]byte(out), &svc); err != nil {
		t.Fatalf("decode service: %v\n%s", err, out)
	}
	vip := svc.Spec.ClusterIP
	t.Logf("web's ClusterIP %s; srv-a %s (n1), srv-b %s (n3), cli %s (n2), cli1 %s (n1)", vip,
		pods["srv-a"].Status.PodIP, pods["srv-b"].Status.PodIP, pods["cli"].Status.PodIP, pods["cli1"].Status.PodIP)

	// get asks the Service from client pod; it returns the server's name
	// and fails the test when the server saw another source address.
	get := func(client, url string) (string, error) {
		// busybox nc, not wget: the image's static wget exits 139 under
		// shoal exec (see clientPod).
		u, err := neturl.Parse(url)
		if err != nil {
			t.Fatal(err)
		}
		req := fmt.Sprintf(`printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' | nc -w 3 %s %s`, u.Path, u.Host, u.Hostname(), u.Port())
		out, err := f.try("exec", client, "--", "sh", "-c", req)
		if err != nil {
			return "", fmt.Errorf("%w: %s", err, out)
		}
		caller, server, err := callerAndServer(out)
		if errors.Is(err, errAnswerShape) {
			t.Fatalf("from %s: %v", url, err)
		}
		if err != nil {
			return "", err
		}
		if want := pods[client].Status.PodIP; caller != want {
			t.Fatalf("the server %s saw %s calling, not the client pod's own IP %s: the source was translated", server, caller, want)
		}
		return server, nil
	}
	// spread waits until requests from client to url have reached every
	// server in want and no other.
	spread := func(client, url string, want ...string) {
		t.Helper()
		seen := map[string]bool{}
		var lastErr error
		defer func() {
			if t.Failed() {
				t.Logf("%s reached %v; last error: %v", client, seen, lastErr)
			}
		}()
		waitFor(t, client+" reaching "+strings.Join(want, " and ")+" through "+url, func() bool {
			server, err := get(client, url)
			if err != nil {
				lastErr = err
				return false
			}
			seen[server] = true
			for _, w := range want {
				if !seen[w] {
					return false
				}
			}
			return true
		})
		for s := range seen {
			if !strings.Contains(" "+strings.Join(want, " ")+" ", " "+s+" ") {
				t.Logf("%s also answered while the rules settled", s)
			}
		}
	}
	// only waits until n consecutive requests all reach server.
	only := func(client, url, server string, n int) {
		t.Helper()
		streak := 0
		waitFor(t, "only "+server+" answering "+client, func() bool {
			got, err := get(client, url)
			if err != nil || got != server {
				streak = 0
				return false
			}
			streak++
			return streak >= n
		})
	}
	url := "http://" + vip + ":80/cgi-bin/ip"

	t.Run("ClusterIP reaches both servers with the client's own IP", func(t *testing.T) {
		spread("cli", url, "srv-a", "srv-b")  // n2: a client agent
		spread("cli1", url, "srv-a", "srv-b") // n1: the server agent
	})

	t.Run("the node's DNS resolves the Service", func(t *testing.T) {
		out, err := f.try("exec", "dns", "--", "cat", "/etc/resolv.conf")
		if err != nil || !strings.Contains(out, "search default.svc.cluster.local svc.cluster.local cluster.local") ||
			!strings.Contains(out, "options ndots:5") {
			t.Fatalf("dns's resolv.conf (%v):\n%s", err, out)
		}
		n2 := f.labState().Nodes[1]
		if !strings.Contains(out, "nameserver "+n2.Addr+"\n") {
			t.Errorf("dns's resolv.conf does not name its node's address %s:\n%s", n2.Addr, out)
		}
		// busybox's nslookup walks the search path first (ndots:5), so
		// its exit status says little: the answer must hold the ClusterIP.
		out, err = f.try("exec", "dns", "--", "nslookup", "web.default.svc.cluster.local")
		if !strings.Contains(out, "Address: "+vip) {
			t.Fatalf("nslookup web.default.svc.cluster.local (%v):\n%s", err, out)
		}
		out, _ = f.try("exec", "dns", "--", "nslookup", "nothing.default.svc.cluster.local")
		if !strings.Contains(out, "NXDOMAIN") || strings.Contains(out, "Address: 10.96.") {
			t.Errorf("an unknown Service did not get NXDOMAIN:\n%s", out)
		}
		// The short name, through the search path. (The image's static
		// busybox wget cannot resolve names at all: glibc's static NSS.)
		out, _ = f.try("exec", "dns", "--", "nslookup", "web")
		if !strings.Contains(out, "web.default.svc.cluster.local") || !strings.Contains(out, "Address: "+vip) {
			t.Errorf("nslookup web did not find web.default.svc.cluster.local at %s:\n%s", vip, out)
		}
	})

	t.Run("NodePort, externalIP and ClientIP affinity; headless", func(t *testing.T) {
		f.apply(webExtraServices)
		var webx api.Service
		if err := json.Unmarshal([]byte(f.run("get", "svc", "webx", "-o", "json")), &webx); err != nil || len(webx.Spec.Ports) != 1 {
			t.Fatalf("webx: %v %+v", err, webx.Spec.Ports)
		}
		nodePort := fmt.Sprint(webx.Spec.Ports[0].NodePort)
		n2 := f.labState().Nodes[1]
		// From a pod to its own node's address (the node that translates
		// sees the reply: no SNAT needed) and to the external IP, which the
		// pod's node translates before routing.
		for _, u := range []string{"http://" + n2.Addr + ":" + nodePort + "/cgi-bin/ip", "http://192.0.2.80:80/cgi-bin/ip"} {
			var first string
			waitFor(t, "cli reaching webx at "+u, func() bool {
				var err error
				first, err = get("cli", u)
				return err == nil
			})
			// Affinity: every later request goes where the first went
			// (without it, 10 of 10 on one of 2 servers has odds 2^-9).
			for range 10 {
				if got, err := get("cli", u); err != nil || got != first {
					t.Fatalf("%s: %q (%v) after %q: ClientIP affinity not kept", u, got, err, first)
				}
			}
		}
		// Headless: the name answers every ready server's own IP.
		eventually(t, "webh resolving to both servers", func() string {
			out, _ := f.try("exec", "dns", "--", "nslookup", "webh.default.svc.cluster.local")
			for _, p := range []string{"srv-a", "srv-b"} {
				if !strings.Contains(out, "Address: "+pods[p].Status.PodIP) {
					return "no " + p + " in: " + out
				}
			}
			return ""
		})
		f.run("delete", "svc", "webx", "webh")
	})

	t.Run("rules live in the node namespaces only", func(t *testing.T) {
		for _, n := range f.labState().Nodes {
			out, err := exec.Command("ip", "netns", "exec", n.Netns, "nft", "list", "table", "ip", "shoal-svc").CombinedOutput()
			if err != nil || !strings.Contains(string(out), vip) {
				t.Errorf("node %s: table ip shoal-svc without %s (%v):\n%s", n.Name, vip, err, out)
			}
			out, err = exec.Command("ip", "netns", "exec", n.Netns, "ip", "route", "show", "default").CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != "" {
				t.Errorf("node %s has a default route (%v): %s", n.Name, err, out)
			}
		}
		checkNoHostTable(t)
	})

	t.Run("a deleted server gets no more traffic", func(t *testing.T) {
		// Terminating for up to its grace, it leaves the endpoints at once.
		f.run("delete", "pod", "srv-b", "--grace-period=5")
		only("cli", url, "srv-a", 20)
		only("cli1", url, "srv-a", 20)
		eventually(t, "srv-b gone once its node stopped it", func() string {
			if out, err := f.try("get", "pod", "srv-b"); err == nil {
				return out
			}
			return ""
		})
	})

	t.Run("a partitioned node's server leaves once the node is NotReady", func(t *testing.T) {
		f.apply(webServer("srv-b", "n3"))
		pods["srv-b"] = f.waitPod("srv-b", "running", running)
		spread("cli", url, "srv-a", "srv-b")
		f.run("lab", "partition", f.name, "n3", "--state-root", f.stateRoot)
		start := time.Now()
		waitFor(t, "n3 NotReady", func() bool {
			ready, known := f.nodeReady("n3", map[string]bool{"n3": true})
			return known && !ready
		})
		only("cli", url, "srv-a", 20)
		only("cli1", url, "srv-a", 20)
		t.Logf("n3 partitioned: NotReady and its server out of rotation after %s", time.Since(start).Round(time.Millisecond))
		f.run("lab", "heal", f.name, "n3", "--state-root", f.stateRoot)
	})
}

// checkNoHostTable fails the test when the host's own namespace has shoal's
// service table: every rule belongs in a node namespace.
func checkNoHostTable(t *testing.T) {
	t.Helper()
	out, err := exec.Command("nft", "list", "tables").CombinedOutput()
	if err != nil {
		t.Errorf("nft list tables: %v\n%s", err, out)
		return
	}
	if strings.Contains(string(out), "shoal-svc") {
		t.Errorf("the host namespace has a shoal-svc table:\n%s", out)
	}
}

// dumpServices logs each node's service table, routes and the agents'
// service log lines, for a failed run.
func (f *fleet) dumpServices() {
	for _, n := range f.labState().Nodes {
		out, _ := exec.Command("ip", "netns", "exec", n.Netns, "nft", "list", "table", "ip", "shoal-svc").CombinedOutput()
		routes, _ := exec.Command("ip", "-n", n.Netns, "route").CombinedOutput()
		f.t.Logf("==== %s: table ip shoal-svc\n%s\n==== %s: routes\n%s", n.Name, out, n.Name, routes)
		b, _ := os.ReadFile(filepath.Join(f.stateRoot, f.name, n.Name, "agent.log"))
		var lines []string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "part=services") {
				lines = append(lines, l)
			}
		}
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		f.t.Logf("==== %s: services log\n%s", n.Name, strings.Join(lines, "\n"))
	}
}
