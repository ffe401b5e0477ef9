package e2e

import (
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// webTemplate is the pod template of a controller whose pods answer GET
// /cgi-bin/ip with the caller's address and their own name, and write
// "client ADDR" to their log for every request, on the container port
// named http. It avoids the node tainted for clients.
func webTemplate(app string) string {
	return `    metadata:
      labels: {app: ` + app + `}
    spec:
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
          echo "client $REMOTE_ADDR" >&2
          echo "Content-Type: text/plain"
          echo
          echo "$REMOTE_ADDR $(hostname)"
          EOF
          chmod +x /www/cgi-bin/ip
          exec httpd -f -p 8080 -h /www
`
}

// The client pod runs alone on the node tainted for it.
const nameClient = `apiVersion: v1
kind: Pod
metadata:
  name: cli
spec:
  nodeSelector: {kubernetes.io/hostname: n1}
  tolerations:
  - {key: role, operator: Equal, value: client, effect: NoSchedule}
  containers:
  - name: main
    image: ` + image + `
    command: ["sh", "-c", "exec sleep 3600"]
`

// webPod is one pod of an app as kubectl lists it.
type webPod struct{ name, node, ip string }

// TestServicesByName is issue 19's lab check: on a 4-node lab with one
// Raft seat (n1), a client pod on n1 reaches
// http://web.default.svc.cluster.local, a Service made by `kubectl expose
// rc` over an RC of 3 pods on n2-n4, by its name through the node's DNS.
// Every server sees the client pod's own IP and logs it, requests spread
// over all 3, and when the node of one replica is killed, once the node
// is NotReady every request succeeds again and no new connection goes
// to the dead pod's IP. `kubectl expose deployment` works the same way.
// Deleting the Service removes its rules from every node namespace, the
// killed node's too once its agent is back.
func TestServicesByName(t *testing.T) {
	requireE2E(t)
	t.Cleanup(func() { checkNoHostTable(t) })
	f := startFleet(t, labName("svd"), "--nodes", "4", "--servers", "1")
	t.Cleanup(func() {
		if t.Failed() {
			f.dumpServices()
		}
	})
	f.importBusybox()
	k := kubectlOn(t, f)
	k.ok("taint", "node", "n1", "role=client:NoSchedule")
	k.ok("create", "-f", k.file("cli.yaml", nameClient))
	k.ok("create", "-f", k.file("rc.yaml", `apiVersion: v1
kind: ReplicationController
metadata:
  name: web
spec:
  replicas: 3
  selector: {app: web}
  template:
`+webTemplate("web")))
	cli := f.waitPod("cli", "running", running)
	clientIP := cli.Status.PodIP
	// The helpers below fail the running subtest: run sets cur (and the
	// fleets' t) to it.
	cur := t
	run := func(name string, fn func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			cur, k.t, f.t = t, t, t
			defer func() { cur, k.t, f.t = t, t, t }()
			fn(t)
		})
	}

	pods := func(app string) []webPod {
		out, err := k.try("get", "pods", "-l", "app="+app, "-o",
			`jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP} {.status.phase}{"\n"}{end}`)
		if err != nil {
			return nil
		}
		var ps []webPod
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Fields(l); len(f) == 4 && f[3] == "Running" {
				ps = append(ps, webPod{f[0], f[1], f[2]})
			}
		}
		return ps
	}
	waitPods := func(app string, n int) []webPod {
		cur.Helper()
		var ps []webPod
		waitFor(cur, fmt.Sprintf("%d pods of %s running", n, app), func() bool {
			ps = pods(app)
			return len(ps) == n
		})
		return ps
	}
	web := waitPods("web", 3)
	nodes := map[string]bool{}
	for _, p := range web {
		nodes[p.node] = true
	}
	if nodes["n1"] || len(nodes) != 3 {
		t.Fatalf("the RC's pods are not one on each of n2-n4: %v", web)
	}

	if out := k.ok("expose", "rc", "web", "--port", "80", "--target-port", "http"); !strings.Contains(out, "service/web exposed") {
		t.Fatalf("expose rc:\n%s", out)
	}
	vip := k.ok("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}")
	t.Logf("web's ClusterIP %s; client %s on n1; servers %v", vip, clientIP, web)

	// get asks name:port from cli, resolving the name through the node's
	// DNS on every request (the image's static nc cannot resolve names:
	// glibc's static NSS), and returns the server's name. The server must
	// have seen the client pod's own IP.
	get := func(name string, port int) (string, error) {
		script := fmt.Sprintf(`a=$(nslookup %[1]s | sed -n 's/^Address: *//p' | tail -n 1)
echo "resolved $a"
printf 'GET /cgi-bin/ip HTTP/1.0\r\nHost: %[1]s\r\n\r\n' | nc -w 3 "$a" %[2]d`, name, port)
		out, err := f.try("exec", "cli", "--", "sh", "-c", script)
		if err != nil {
			return "", fmt.Errorf("%w: %s", err, out)
		}
		if !strings.HasPrefix(strings.TrimSpace(out), "resolved ") {
			return "", fmt.Errorf("no address resolved: %q", out)
		}
		caller, server, err := callerAndServer(out)
		if errors.Is(err, errAnswerShape) {
			cur.Fatalf("from %s: %v", name, err)
		}
		if err != nil {
			return "", err
		}
		if caller != clientIP {
			cur.Fatalf("the server %s saw %s calling, not the client pod's own IP %s: the source was translated", server, caller, clientIP)
		}
		return server, nil
	}
	spread := func(name string, port int, want []webPod) {
		cur.Helper()
		seen := map[string]bool{}
		var lastErr error
		done := false
		defer func() {
			if !done {
				cur.Logf("reached %v; last error %v", seen, lastErr)
			}
		}()
		waitFor(cur, "cli reaching all of "+fmt.Sprint(want)+" through "+name, func() bool {
			server, err := get(name, port)
			if err != nil {
				lastErr = err
				return false
			}
			seen[server] = true
			for _, w := range want {
				if !seen[w.name] {
					return false
				}
			}
			return true
		})
		done = true
	}
	const webName = "web.default.svc.cluster.local"

	run("the name reaches all 3 replicas, which log the client's IP", func(t *testing.T) {
		out, err := f.try("exec", "cli", "--", "nslookup", webName)
		if !strings.Contains(out, "Address: "+vip) {
			t.Fatalf("nslookup %s does not answer %s (%v):\n%s", webName, vip, err, out)
		}
		spread(webName, 80, web)
		for _, p := range web {
			logged := regexp.MustCompile(`(?m)^client (\[::ffff:)?` + regexp.QuoteMeta(clientIP) + `\]?$`)
			if out := k.ok("logs", p.name); !logged.MatchString(out) {
				t.Errorf("%s's log does not name the client %s:\n%s", p.name, clientIP, out)
			}
		}
	})

	run("dnsConfig, pod records and SRV", func(t *testing.T) {
		n1 := f.labState().Nodes[0]
		pod := func(name, dns string) string {
			return strings.Replace(strings.Replace(nameClient, "name: cli", "name: "+name, 1), "spec:\n", "spec:\n"+dns, 1)
		}
		k.ok("create", "-f", k.file("none.yaml", pod("dns-none", `  dnsPolicy: None
  dnsConfig:
    nameservers: [`+n1.Addr+`]
    searches: [default.svc.cluster.local]
    options: [{name: ndots, value: "2"}, {name: edns0}]
`)))
		k.ok("create", "-f", k.file("first.yaml", pod("dns-first", `  dnsConfig:
    nameservers: [192.0.2.53]
    searches: [corp.example]
    options: [{name: ndots, value: "1"}]
`)))
		f.waitPod("dns-none", "running", running)
		f.waitPod("dns-first", "running", running)
		for name, want := range map[string]string{
			"dns-none": "search default.svc.cluster.local\nnameserver " + n1.Addr + "\noptions ndots:2 edns0\n",
			"dns-first": "search default.svc.cluster.local svc.cluster.local cluster.local corp.example\n" +
				"nameserver " + n1.Addr + "\nnameserver 192.0.2.53\noptions ndots:1\n",
		} {
			if out, err := f.try("exec", name, "--", "cat", "/etc/resolv.conf"); err != nil || out != want {
				t.Errorf("%s's resolv.conf (%v):\n%s\nwant:\n%s", name, err, out, want)
			}
		}
		// The short name through dnsConfig's search domain, the only one.
		if out, err := f.try("exec", "dns-none", "--", "nslookup", "web"); !strings.Contains(out, "Address: "+vip) {
			t.Errorf("nslookup web with dnsPolicy None (%v):\n%s", err, out)
		}
		dashed := strings.ReplaceAll(clientIP, ".", "-") + ".default.pod.cluster.local"
		if out, err := f.try("exec", "cli", "--", "nslookup", dashed); !strings.Contains(out, "Address: "+clientIP) {
			t.Errorf("nslookup %s (%v):\n%s", dashed, err, out)
		}
		k.ok("create", "-f", k.file("named.yaml", `apiVersion: v1
kind: Service
metadata:
  name: named
spec:
  selector: {app: web}
  ports:
  - {name: www, port: 81, targetPort: http}
`))
		if out, err := f.try("exec", "cli", "--", "nslookup", "-type=SRV", "_www._tcp.named.default.svc.cluster.local"); !regexp.MustCompile(`port = 81\b|\b81 named\.default\.svc\.cluster\.local`).MatchString(out) {
			t.Errorf("SRV of named's port www (%v):\n%s", err, out)
		}
		out := k.fails("create", "-f", k.file("bad.yaml", pod("dns-bad", "  dnsPolicy: None\n")))
		if !strings.Contains(out, `The Pod "dns-bad" is invalid: spec.dnsConfig: Required value`) && !strings.Contains(out, "spec.dnsConfig: required when dnsPolicy is None") {
			t.Errorf("dnsPolicy None without dnsConfig:\n%s", out)
		}
		out = k.fails("create", "-f", k.file("bad.yaml", pod("dns-bad", "  dnsConfig: {nameservers: [dns.example]}\n")))
		if !strings.Contains(out, "spec.dnsConfig.nameservers[0]") {
			t.Errorf("a nameserver that is not an IP:\n%s", out)
		}
		if out := k.fails("get", "pod", "dns-bad"); !strings.Contains(out, `pods "dns-bad" not found`) {
			t.Errorf("after the refused creates:\n%s", out)
		}
		k.ok("delete", "pod", "dns-none", "dns-first", "--wait=false")
		k.ok("delete", "svc", "named")
	})

	run("kubectl expose deployment", func(t *testing.T) {
		k.ok("create", "-f", k.file("hello.yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
spec:
  replicas: 2
  selector:
    matchLabels: {app: hello}
  template:
`+webTemplate("hello")))
		hello := waitPods("hello", 2)
		if out := k.ok("expose", "deployment", "hello", "--port", "8000", "--target-port", "8080"); !strings.Contains(out, "service/hello exposed") {
			t.Fatalf("expose deployment:\n%s", out)
		}
		k.eventually("hello's endpoints", kubeContains(hello[0].ip+":8080", hello[1].ip+":8080"), "get", "endpoints", "hello")
		spread("hello.default.svc.cluster.local", 8000, hello)
		k.ok("delete", "deployment", "hello")
		k.ok("delete", "svc", "hello")
	})

	var dead webPod
	run("a killed replica's node leaves the rotation", func(t *testing.T) {
		dead = web[0]
		n1 := f.labState().Nodes[0]
		// conntrack lists the flows n1 tracks toward the dead pod, by
		// client address and port.
		conntrack := func() map[string]bool {
			out, err := exec.Command("ip", "netns", "exec", n1.Netns, "cat", "/proc/net/nf_conntrack").CombinedOutput()
			if err != nil {
				t.Fatalf("conntrack of n1: %v\n%s", err, out)
			}
			flows := map[string]bool{}
			for _, l := range strings.Split(string(out), "\n") {
				if !strings.Contains(l+" ", " src="+dead.ip+" ") {
					continue
				}
				var src, sport string
				for _, f := range strings.Fields(l) {
					if v, ok := strings.CutPrefix(f, "src="); ok && src == "" {
						src = v
					}
					if v, ok := strings.CutPrefix(f, "sport="); ok && sport == "" {
						sport = v
					}
				}
				flows[src+":"+sport] = true
			}
			return flows
		}
		f.run("lab", "kill", f.name, dead.node, "--state-root", f.stateRoot)
		start := time.Now()
		var notReady time.Duration
		failed, streak := 0, 0
		var recovered time.Duration
		waitFor(t, "30 requests in a row answered by the live replicas", func() bool {
			if notReady == 0 {
				if ready, known := f.nodeReady(dead.node, map[string]bool{dead.node: true}); known && !ready {
					notReady = time.Since(start)
				}
			}
			server, err := get(webName, 80)
			if err != nil || server == dead.name {
				failed++
				streak = 0
				return false
			}
			if streak == 0 {
				recovered = time.Since(start)
			}
			streak++
			return streak >= 30
		})
		t.Logf("%s killed: NotReady after %s; from %s on every request was answered (%d failed before)",
			dead.node, notReady.Round(time.Millisecond), recovered.Round(time.Millisecond), failed)
		before := conntrack()
		for i := 0; i < 30; i++ {
			server, err := get(webName, 80)
			if err != nil {
				t.Fatalf("request %d after the failover: %v", i, err)
			}
			if server == dead.name {
				t.Fatalf("request %d after the failover answered by the dead pod %s", i, server)
			}
		}
		for flow := range conntrack() {
			if !before[flow] {
				t.Errorf("a new connection from %s went to the dead pod's IP %s after the failover", flow, dead.ip)
			}
		}
		out, err := exec.Command("ip", "netns", "exec", n1.Netns, "nft", "list", "ruleset").CombinedOutput()
		if err != nil || strings.Contains(string(out), dead.ip) {
			t.Errorf("n1's rules still name the dead pod's IP %s (%v):\n%s", dead.ip, err, out)
		}
	})

	run("deleting the Service removes its rules on every node", func(t *testing.T) {
		if dead.node == "" {
			t.Skip("no node was killed")
		}
		k.ok("delete", "svc", "web")
		gone := func(node string) {
			t.Helper()
			n, err := f.labState().Node(node)
			if err != nil {
				t.Fatal(err)
			}
			var out []byte
			waitFor(t, "no rule of web on "+node, func() bool {
				out, err = exec.Command("ip", "netns", "exec", n.Netns, "nft", "list", "ruleset").CombinedOutput()
				return err == nil && !strings.Contains(string(out), vip) && !strings.Contains(string(out), "default/web/")
			})
			if !strings.Contains(string(out), "table ip shoal-svc") {
				t.Errorf("%s has no shoal-svc table at all:\n%s", node, out)
			}
		}
		for _, node := range f.liveNodes(map[string]bool{dead.node: true}) {
			gone(node)
		}
		// The killed node's namespace kept the rules its agent made; the
		// agent, back on its old data dir, replaces them.
		n, err := f.labState().Node(dead.node)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("ip", "netns", "exec", n.Netns, "nft", "list", "ruleset").CombinedOutput(); err != nil || !strings.Contains(string(out), vip) {
			t.Fatalf("the killed node %s's namespace lost web's rules before its agent came back (%v):\n%s", dead.node, err, out)
		}
		f.run("lab", "heal", f.name, dead.node, "--state-root", f.stateRoot)
		f.waitNodeReady(dead.node)
		gone(dead.node)
	})
}
