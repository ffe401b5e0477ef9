package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/deploy/lab"
)

// kubectlFleet is a lab fleet driven with the machine's own kubectl,
// through the kubeconfig `shoal lab kubeconfig` prints.
type kubectlFleet struct {
	*fleet
	kubectl string
	env     []string
	dir     string
}

func startKubectlFleet(t *testing.T) *kubectlFleet {
	return startKubectlFleetOf(t, "pd", 2)
}

// startKubectlFleetOf is a lab of nodes agents, n1 the one Raft seat,
// whose kubectl talks to the client n2, after checking the lab's own
// kubeconfig reaches the fleet and every node is Ready.
func startKubectlFleetOf(t *testing.T, prefix string, nodes int) *kubectlFleet {
	t.Helper()
	return startKubectlFleetWith(t, prefix, nodes)
}

// startKubectlFleetWith is startKubectlFleetOf with more `lab up` flags.
func startKubectlFleetWith(t *testing.T, prefix string, nodes int, labArgs ...string) *kubectlFleet {
	t.Helper()
	requireE2E(t)
	// One Raft seat: n2 is a client, and kubectl talks to it, so every
	// request, watches included, also crosses the agents' forwarding.
	f := startFleet(t, labName(prefix), append([]string{"--nodes", strconv.Itoa(nodes), "--servers", "1"}, labArgs...)...)
	f.importBusybox()
	l, err := lab.Load(f.stateRoot, f.name)
	if err != nil {
		t.Fatal(err)
	}
	k := kubectlOn(t, f) // through the lab's kubeconfig first
	viaClient := k.file("kubeconfig", f.run("kubeconfig", "--server", l.Nodes[1].APIURL()))
	k.eventually(fmt.Sprintf("%d Ready nodes", nodes), func(out string) bool {
		for i := 1; i <= nodes; i++ {
			if !kubeRow(fmt.Sprintf("n%d", i), "Ready").MatchString(out) {
				return false
			}
		}
		return true
	}, "get", "nodes")
	k.env[0] = "KUBECONFIG=" + viaClient
	return k
}

// kubectlOn points the machine's kubectl at a lab already up, through
// `shoal lab kubeconfig` (the lab's first node).
func kubectlOn(t *testing.T, f *fleet) *kubectlFleet {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	dir := t.TempDir()
	k := &kubectlFleet{fleet: f, kubectl: kubectl, dir: dir}
	cfg := k.file("lab-kubeconfig", f.run("lab", "kubeconfig", f.name, "--state-root", f.stateRoot))
	// A HOME of its own: kubectl caches discovery by server address.
	k.env = []string{"KUBECONFIG=" + cfg, "HOME=" + dir, "KUBECACHEDIR=" + filepath.Join(dir, "cache")}
	return k
}

func (k *kubectlFleet) try(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.kubectl, args...)
	cmd.Env = append(os.Environ(), k.env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ok runs kubectl and fails the test when it fails.
func (k *kubectlFleet) ok(args ...string) string {
	k.t.Helper()
	out, err := k.try(args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// fails runs kubectl, expects it to fail, and returns what it printed.
func (k *kubectlFleet) fails(args ...string) string {
	k.t.Helper()
	out, err := k.try(args...)
	if err == nil {
		k.t.Fatalf("kubectl %s succeeded:\n%s", strings.Join(args, " "), out)
	}
	return out
}

func (k *kubectlFleet) file(name, content string) string {
	k.t.Helper()
	p := filepath.Join(k.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		k.t.Fatal(err)
	}
	return p
}

// eventually polls kubectl until its output matches, within a deadline
// that bounds a broken fleet, not a speed.
func (k *kubectlFleet) eventually(what string, match func(string) bool, args ...string) string {
	k.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var out string
	for time.Now().Before(deadline) {
		var err error
		if out, err = k.try(args...); err == nil && match(out) {
			return out
		}
		time.Sleep(300 * time.Millisecond)
	}
	k.t.Fatalf("kubectl %s never showed %s; last:\n%s", strings.Join(args, " "), what, out)
	return ""
}

func kubeContains(want ...string) func(string) bool {
	return func(out string) bool {
		for _, w := range want {
			if !strings.Contains(out, w) {
				return false
			}
		}
		return true
	}
}

// kubeRow matches one table row by its first cells, any amount of space
// between. A cell with a backslash is a regular expression.
func kubeRow(cells ...string) *regexp.Regexp {
	for i, c := range cells {
		if !strings.Contains(c, `\`) {
			cells[i] = regexp.QuoteMeta(c)
		}
	}
	return regexp.MustCompile(`(?m)^` + strings.Join(cells, `\s+`) + `(\s|$)`)
}

func kubeMatch(t *testing.T, out string, re *regexp.Regexp) {
	t.Helper()
	if !re.MatchString(out) {
		t.Fatalf("no line matches %s in:\n%s", re, out)
	}
}

func kubePod(name, labels string) string {
	return `apiVersion: v1
kind: Pod
metadata:
  name: ` + name + `
  labels: {` + labels + `}
spec:
  containers:
  - name: main
    image: ` + image + `
    command: ["sh", "-c", "echo started; exec sleep 3600"]
`
}

func TestKubectlDrivesTheFleet(t *testing.T) {
	k := startKubectlFleet(t)

	t.Run("version and discovery", func(t *testing.T) {
		k.t = t
		if out := k.ok("version"); !strings.Contains(out, "Server Version: v1.32.0+shoal") {
			t.Errorf("kubectl version:\n%s", out)
		}
		out := k.ok("api-resources")
		kubeMatch(t, out, kubeRow("nodes", "no", "v1", "false", "Node"))
		kubeMatch(t, out, kubeRow("pods", "po", "v1", "true", "Pod"))
		kubeMatch(t, out, kubeRow("services", "svc", "v1", "true", "Service"))
		kubeMatch(t, out, kubeRow("endpoints", "ep", "v1", "true", "Endpoints"))
		kubeMatch(t, out, kubeRow("endpointslices", "discovery.k8s.io/v1", "true", "EndpointSlice"))
		kubeMatch(t, out, kubeRow("deployments", "deploy", "apps/v1", "true", "Deployment"))
		kubeMatch(t, out, kubeRow("daemonsets", "ds", "apps/v1", "true", "DaemonSet"))
		kubeMatch(t, out, kubeRow("configmaps", "cm", "v1", "true", "ConfigMap"))
		if strings.Contains(out, "statefulsets") || strings.Contains(out, "limitranges") {
			t.Errorf("api-resources lists what shoal does not serve:\n%s", out)
		}
	})

	t.Run("get nodes", func(t *testing.T) {
		k.t = t
		out := k.ok("get", "nodes")
		kubeMatch(t, out, kubeRow("NAME", "STATUS", "ROLES", "AGE", "VERSION"))
		// shoal's roles, from its read-time annotations: n1 holds the one
		// Raft seat, n2 is a client.
		kubeMatch(t, out, kubeRow("n1", "Ready", "server,leader"))
		kubeMatch(t, out, kubeRow("n2", "Ready", "client"))
		wide := k.ok("get", "nodes", "-o", "wide")
		kubeMatch(t, wide, kubeRow("NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME", "POD-BLOCK", "CPU", "MEMORY", "PODS"))
		kubeMatch(t, wide, kubeRow("n1", "Ready", `\S+`, `\S+`, `\S+`, `\S+`, "<none>", `\S+`, `\S+`, "containerd", `10\.\S+/\d+`, `\S+/\S+`, `\S+/\S+`, `\d+/110`))
	})

	web := k.file("web.yaml", kubePod("web", "app: web"))
	t.Run("create, and create again", func(t *testing.T) {
		k.t = t
		if out := k.ok("create", "-f", web); !strings.Contains(out, "pod/web created") {
			t.Errorf("create:\n%s", out)
		}
		out := k.fails("create", "-f", web)
		if !strings.Contains(out, `Error from server (AlreadyExists): error when creating "`+web+`": pods "web" already exists`) {
			t.Errorf("second create:\n%s", out)
		}
		k.eventually("web Running", func(out string) bool { return kubeRow("web", "1/1", "Running", "0").MatchString(out) }, "get", "pods")
	})

	// kubectl run builds the pod itself, with dnsPolicy: ClusterFirst.
	t.Run("run", func(t *testing.T) {
		k.t = t
		if out := k.ok("run", "t1", "--image="+image, "--", "sleep", "1000"); !strings.Contains(out, "pod/t1 created") {
			t.Errorf("run:\n%s", out)
		}
		k.eventually("t1 Running", func(out string) bool { return kubeRow("t1", "1/1", "Running", "0").MatchString(out) }, "get", "pods")
		if out := k.ok("get", "pod", "t1", "-o", "jsonpath={.spec.dnsPolicy}"); out != "ClusterFirst" {
			t.Errorf("dnsPolicy = %q, want ClusterFirst as kubectl sent it", out)
		}
		k.ok("delete", "pod", "t1", "--grace-period=1")
	})

	t.Run("get pods in every shape", func(t *testing.T) {
		k.t = t
		kubeMatch(t, k.ok("get", "pods", "-o", "wide"), kubeRow("web", "1/1", "Running", "0", `\S+`))
		wide := k.ok("get", "pods", "-o", "wide")
		kubeMatch(t, wide, kubeRow("NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"))
		if !regexp.MustCompile(`(?m)^web\s.*\s10\.244\.\d+\.\d+\s+n[12]\s`).MatchString(wide) {
			t.Errorf("wide row lacks the pod IP and node:\n%s", wide)
		}
		if out := k.ok("get", "pod", "web", "-o", "yaml"); !strings.Contains(out, "kind: Pod") || !strings.Contains(out, "phase: Running") {
			t.Errorf("-o yaml:\n%s", out)
		}
		var list struct {
			Kind  string `json:"kind"`
			Items []struct {
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(k.ok("get", "pods", "-o", "json")), &list); err != nil || list.Kind != "List" || len(list.Items) != 1 || list.Items[0].Metadata.Name != "web" {
			t.Errorf("-o json: %v %+v", err, list)
		}
		kubeMatch(t, k.ok("get", "pods", "-l", "app=web"), kubeRow("web", "1/1"))
		if out := k.ok("get", "pods", "-l", "app=nope"); !strings.Contains(out, "No resources found in default namespace.") {
			t.Errorf("-l app=nope:\n%s", out)
		}
		all := k.ok("get", "pods", "-A")
		kubeMatch(t, all, kubeRow("NAMESPACE", "NAME", "READY"))
		kubeMatch(t, all, kubeRow("default", "web", "1/1", "Running"))
		if out := k.ok("get", "pods", "-n", "other"); !strings.Contains(out, "No resources found in other namespace.") {
			t.Errorf("-n other:\n%s", out)
		}
		if out := k.ok("get", "pods", "--show-labels"); !kubeRow("web", "1/1", "Running", "0", `\S+`, "app=web").MatchString(out) {
			t.Errorf("--show-labels:\n%s", out)
		}
	})

	t.Run("describe pod", func(t *testing.T) {
		k.t = t
		out := k.ok("describe", "pod", "web")
		for _, re := range []*regexp.Regexp{kubeRow("Name:", "web"), kubeRow("Namespace:", "default"), kubeRow("Status:", "Running"), kubeRow("IP:", `10\.244\.\S+`), kubeRow("Labels:", "app=web")} {
			if !re.MatchString(out) {
				t.Errorf("describe lacks %s:\n%s", re, out)
			}
		}
	})

	t.Run("label", func(t *testing.T) {
		k.t = t
		if out := k.ok("label", "pod", "web", "tier=front"); !strings.Contains(out, "pod/web labeled") {
			t.Errorf("label:\n%s", out)
		}
		if out := k.fails("label", "pod", "web", "tier=back"); !strings.Contains(out, "'tier' already has a value (front), and --overwrite is false") {
			t.Errorf("label without --overwrite:\n%s", out)
		}
		k.ok("label", "pod", "web", "tier=back", "--overwrite")
		if out := k.ok("get", "pod", "web", "-o", "jsonpath={.metadata.labels.tier}"); out != "back" {
			t.Errorf("tier = %q after --overwrite", out)
		}
	})

	t.Run("apply creates, configures, leaves unchanged", func(t *testing.T) {
		k.t = t
		v1 := k.file("app.yaml", kubePod("app", "app: app"))
		if out := k.ok("apply", "-f", v1); !strings.Contains(out, "pod/app created") {
			t.Errorf("first apply:\n%s", out)
		}
		if out := k.ok("get", "pod", "app", "-o", "jsonpath={.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}"); !strings.Contains(out, `"name":"app"`) {
			t.Errorf("last-applied annotation = %q", out)
		}
		v2 := k.file("app.yaml", kubePod("app", "app: app, version: two"))
		if out := k.ok("apply", "-f", v2); !strings.Contains(out, "pod/app configured") {
			t.Errorf("second apply:\n%s", out)
		}
		if out := k.ok("get", "pod", "app", "-o", "jsonpath={.metadata.labels.version}"); out != "two" {
			t.Errorf("label after apply = %q", out)
		}
		if out := k.ok("apply", "-f", v2); !strings.Contains(out, "pod/app unchanged") {
			t.Errorf("third apply:\n%s", out)
		}
		// Dropping a label from the manifest removes it: the three-way patch.
		if out := k.ok("apply", "-f", k.file("app.yaml", kubePod("app", "app: app"))); !strings.Contains(out, "pod/app configured") {
			t.Errorf("fourth apply:\n%s", out)
		}
		if out := k.ok("get", "pod", "app", "-o", "jsonpath={.metadata.labels}"); strings.Contains(out, "version") {
			t.Errorf("labels after dropping one = %s", out)
		}
		// Server-side apply takes over from client-side apply, through
		// whichever agent the kubeconfig names.
		ssa := k.file("app-ssa.yaml", kubePod("app", "app: app, version: two"))
		if out := k.ok("apply", "--server-side", "-f", ssa); !strings.Contains(out, "pod/app serverside-applied") {
			t.Errorf("--server-side:\n%s", out)
		}
		if out := k.ok("get", "pod", "app", "-o", "jsonpath={.metadata.labels.version}"); out != "two" {
			t.Errorf("label after a server-side apply = %q", out)
		}
		if out := k.ok("get", "pod", "app", "-o", "yaml", "--show-managed-fields"); !strings.Contains(out, "operation: Apply") {
			t.Errorf("managedFields after a server-side apply:\n%s", out)
		}
	})

	t.Run("errors read as Kubernetes'", func(t *testing.T) {
		k.t = t
		if out := k.fails("get", "pod", "nope"); !strings.Contains(out, `Error from server (NotFound): pods "nope" not found`) {
			t.Errorf("get missing:\n%s", out)
		}
		bad := k.file("bad.yaml", strings.Replace(kubePod("bad", "app: bad"), "spec:\n", "spec:\n  restartPolicy: Sometimes\n", 1))
		if out := k.fails("create", "-f", bad); !strings.Contains(out, `The Pod "bad" is invalid: spec.restartPolicy`) {
			t.Errorf("invalid:\n%s", out)
		}
		stale := k.file("stale.yaml", k.ok("get", "pod", "web", "-o", "yaml"))
		k.ok("label", "pod", "web", "touched=yes")
		if out := k.fails("replace", "-f", stale); !strings.Contains(out, `Error from server (Conflict)`) || !strings.Contains(out, `Operation cannot be fulfilled on pods "web": the object has been modified`) {
			t.Errorf("stale replace:\n%s", out)
		}
	})

	t.Run("get pods -w", func(t *testing.T) {
		k.t = t
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, k.kubectl, "get", "pods", "-w", "--output-watch-events")
		cmd.Env = append(os.Environ(), k.env...)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cancel(); _ = cmd.Wait() }()
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				select {
				case lines <- sc.Text():
				case <-ctx.Done():
					return
				}
			}
		}()
		waitLine := func(re *regexp.Regexp) {
			t.Helper()
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("kubectl get -w ended before a line matching %s", re)
					}
					if re.MatchString(l) {
						return
					}
				case <-ctx.Done():
					t.Fatalf("no line matching %s", re)
				}
			}
		}
		waitLine(kubeRow("EVENT", "NAME", "READY", "STATUS"))
		waitLine(kubeRow("ADDED", "web"))
		k.ok("create", "-f", k.file("watched.yaml", kubePod("watched", "app: watched")))
		waitLine(kubeRow("ADDED", "watched", "0/1", "Pending"))
		waitLine(kubeRow("MODIFIED", "watched", "1/1", "Running"))
		k.ok("delete", "pod", "watched", "--wait=false", "--grace-period=1")
		waitLine(kubeRow("DELETED", "watched"))
	})

	t.Run("delete", func(t *testing.T) {
		k.t = t
		if out := k.ok("delete", "pod", "web", "--grace-period=1"); !strings.Contains(out, `pod "web" deleted`) {
			t.Errorf("delete pod:\n%s", out)
		}
		if out := k.ok("delete", "-f", k.file("app.yaml", kubePod("app", "app: app")), "--grace-period=1"); !strings.Contains(out, `pod "app" deleted`) {
			t.Errorf("delete -f:\n%s", out)
		}
		k.eventually("no pods", kubeContains("No resources found in default namespace."), "get", "pods")
	})

	t.Run("replication controllers", func(t *testing.T) {
		k.t = t
		if !strings.Contains(k.ok("api-resources"), "replicationcontrollers") {
			t.Skip("this build serves no replicationcontrollers")
		}
		rc := k.file("rc.yaml", `apiVersion: v1
kind: ReplicationController
metadata:
  name: front
spec:
  replicas: 2
  selector: {app: front}
  template:
    metadata:
      labels: {app: front}
    spec:
      containers:
      - name: main
        image: `+image+`
        command: ["sleep", "3600"]
`)
		if out := k.ok("apply", "-f", rc); !strings.Contains(out, "replicationcontroller/front created") {
			t.Errorf("apply rc:\n%s", out)
		}
		k.eventually("2 ready replicas", func(out string) bool { return kubeRow("front", "2", "2", "2").MatchString(out) }, "get", "rc")
		kubeMatch(t, k.ok("get", "rc", "-o", "wide"), kubeRow("NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"))
		if out := k.ok("scale", "rc", "front", "--replicas=3"); !strings.Contains(out, "replicationcontroller/front scaled") {
			t.Errorf("scale:\n%s", out)
		}
		k.eventually("3 ready replicas", func(out string) bool { return kubeRow("front", "3", "3", "3").MatchString(out) }, "get", "rc")
		if out := k.ok("apply", "-f", rc); !strings.Contains(out, "replicationcontroller/front configured") {
			t.Errorf("re-apply rc:\n%s", out)
		}
		k.eventually("back to 2 replicas", func(out string) bool { return kubeRow("front", "2", "2", "2").MatchString(out) }, "get", "rc")
		k.ok("delete", "-f", rc)
	})

	t.Run("logs, exec, events where served", func(t *testing.T) {
		k.t = t
		discovery := k.ok("get", "--raw", "/api/v1")
		talk := strings.Replace(kubePod("talk", "app: talk"), `exec sleep 3600`,
			`mkdir -p /www && echo pong > /www/index.html && exec httpd -f -p 0.0.0.0:8080 -h /www`, 1)
		k.ok("create", "-f", k.file("talk.yaml", talk))
		k.eventually("talk Running", func(out string) bool { return kubeRow("talk", "1/1", "Running").MatchString(out) }, "get", "pods")
		served := 0
		if strings.Contains(discovery, `"pods/log"`) {
			served++
			if out := k.eventually("the container's output", kubeContains("started"), "logs", "talk"); !strings.Contains(out, "started") {
				t.Errorf("logs:\n%s", out)
			}
			k.ok("logs", "talk", "-c", "main")
		}
		if strings.Contains(discovery, `"pods/exec"`) {
			served++
			if out := k.ok("exec", "talk", "--", "echo", "from-exec"); strings.TrimSpace(out) != "from-exec" {
				t.Errorf("exec:\n%s", out)
			}
		}
		if strings.Contains(discovery, `"pods/attach"`) {
			served++
			// attach shows what a container writes from then on, and
			// returns when it exits (here to be restarted).
			ticker := strings.Replace(kubePod("ticker", "app: ticker"), `echo started; exec sleep 3600`,
				`sleep 2; for i in 1 2 3; do echo tick $i; sleep 0.3; done`, 1)
			k.ok("create", "-f", k.file("ticker.yaml", ticker))
			k.eventually("the ticks through attach", kubeContains("tick 3"), "attach", "ticker")
			k.ok("delete", "pod", "ticker", "--wait=false", "--grace-period=1")
		}
		if strings.Contains(discovery, `"events"`) {
			served++
			k.eventually("an event about talk", kubeContains("pod/talk"), "get", "events")
		}
		if strings.Contains(discovery, `"pods/portforward"`) {
			served++
			k.portForward(t, "talk", 8080, "pong")
		}
		// kubectl top reads the talk pod's cgroup on its node, through
		// whichever agent the kubeconfig names.
		k.eventually("talk in top pod", func(out string) bool { return regexp.MustCompile(`(?m)^talk\s+\d+m\s+\d+Mi\s*$`).MatchString(out) },
			"top", "pod", "talk")
		nodeRow := regexp.MustCompile(`(?m)^\S+\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%\s*$`)
		k.eventually("both nodes in top node", func(out string) bool { return len(nodeRow.FindAllString(out, -1)) == 2 }, "top", "node")
		if out := k.ok("auth", "can-i", "create", "deployments.apps"); strings.TrimSpace(out) != "yes" {
			t.Errorf("auth can-i create deployments: %s", out)
		}
		k.ok("delete", "pod", "talk", "--wait=false", "--grace-period=1")
		if served == 0 {
			t.Skip("this build serves no pods/log, pods/exec, pods/portforward or events")
		}
	})
}

// portForward runs kubectl port-forward to the pod's port on a free
// loopback port and fetches "/" through it: the packets go to loopback
// only, the agent carries them into the pod.
func (k *kubectlFleet) portForward(t *testing.T, pod string, port int, want string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	local := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.kubectl, "port-forward", "--address", "127.0.0.1", "pod/"+pod, fmt.Sprintf("%d:%d", local, port))
	cmd.Env = append(os.Environ(), k.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	url := fmt.Sprintf("http://127.0.0.1:%d/", local)
	var body []byte
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.TrimSpace(string(body)) == want {
				return
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("port-forward never answered %q (last body %q); kubectl said:\n%s", want, body, out.String())
}
