package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/deploy/lab"
)

const image = "shoal.local/busybox:1"

// The seeds' co-scheduling case: App needs 1Gi and LogCollector 0.5Gi. n1
// has 1.25Gi and n3 1Gi, so only n2 (2Gi) holds the whole pod.
const coScheduled = `apiVersion: v1
kind: Pod
metadata:
  name: app-with-logs
  labels: {app: logs}
spec:
  containers:
  - name: app
    image: ` + image + `
    command: ["sh", "-c", "mkdir -p /www && echo app > /www/index.html && exec httpd -f -p 8080 -h /www"]
    resources: {requests: {memory: 1Gi}}
  - name: log-collector
    image: ` + image + `
    command: ["sleep", "3600"]
    resources: {requests: {memory: 512Mi}}
`

// Two containers of one pod: the checker reaches the server over localhost
// and finds the same hostname (the pod's name); it exits 0 only then.
const pair = `apiVersion: v1
kind: Pod
metadata: {name: pair}
spec:
  restartPolicy: Never
  containers:
  - name: server
    image: ` + image + `
    command: ["sh", "-c", "mkdir -p /www && hostname > /www/host && exec httpd -f -p 8080 -h /www"]
  - name: checker
    image: ` + image + `
    command: ["sh", "-c", "i=0; until wget -q -O /tmp/host http://127.0.0.1:8080/host; do i=$((i+1)); [ $i -gt 150 ] && exit 2; sleep 0.2; done; echo \"server=$(cat /tmp/host) me=$(hostname)\"; test \"$(cat /tmp/host)\" = \"$(hostname)\" && test \"$(hostname)\" = pair"]
`

// A web server on n1 whose CGI prints the caller's address as it sees it.
const web = `apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  nodeSelector: {kubernetes.io/hostname: n1}
  containers:
  - name: httpd
    image: ` + image + `
    command: ["sh", "-c", "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n' > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && exec httpd -f -p 0.0.0.0:8080 -h /www"]
    ports: [{containerPort: 8080}]
`

// A caller on n3 that exits 0 only when the server saw the caller's own pod IP.
const callerTmpl = `apiVersion: v1
kind: Pod
metadata: {name: caller}
spec:
  restartPolicy: Never
  nodeSelector: {kubernetes.io/hostname: n3}
  containers:
  - name: wget
    image: ` + image + `
    env: [{name: SERVER, value: "%s"}]
    command: ["sh", "-c", "me=$(ip addr show dev eth0 | awk '/inet /{split($2,a,\"/\"); print a[1]}'); i=0; until seen=$(wget -q -O - http://$SERVER:8080/cgi-bin/ip); do i=$((i+1)); [ $i -gt 50 ] && exit 2; sleep 0.2; done; echo \"me=$me seen=$seen\"; test -n \"$me\" && test \"$seen\" = \"$me\""]
`

func TestWalkingSkeleton(t *testing.T) {
	f := startFleet(t, labName("skel"), "--nodes", "3", "--node-memory", "1.25Gi,2Gi,1Gi")
	f.importBusybox()

	t.Run("co-scheduled pod runs whole on the one node that fits", func(t *testing.T) {
		f.t = t
		f.apply(coScheduled)
		p := f.waitPod("app-with-logs", "Running with both containers", running)
		if p.Spec.NodeName != "n2" {
			t.Fatalf("pod placed on %s, want n2 (the only node with 1.5Gi free)", p.Spec.NodeName)
		}
		if p.Status.PodIP == "" || p.Status.HostIP == "" {
			t.Fatalf("pod has no podIP/hostIP: %+v", p.Status)
		}
		out := f.run("get", "pods", "-o", "wide")
		if !strings.Contains(out, "app-with-logs") || !strings.Contains(out, "n2") {
			t.Fatalf("get pods -o wide:\n%s", out)
		}
	})

	t.Run("containers of a pod share localhost and hostname", func(t *testing.T) {
		f.t = t
		f.apply(pair)
		p := f.waitPod("pair", "checker finished", func(p *api.Pod) bool {
			cs := containerStatus(p, "checker")
			return cs != nil && cs.State.Terminated != nil
		})
		if code := containerStatus(p, "checker").State.Terminated.ExitCode; code != 0 {
			t.Fatalf("checker exit code %d: localhost or hostname not shared", code)
		}
		if cs := containerStatus(p, "server"); cs == nil || cs.State.Running == nil {
			t.Fatalf("server container not running: %+v", cs)
		}
	})

	t.Run("pod to pod across nodes keeps the caller's IP", func(t *testing.T) {
		f.t = t
		f.apply(web)
		w := f.waitPod("web", "Running", running)
		f.apply(fmt.Sprintf(callerTmpl, w.Status.PodIP))
		c := f.waitPod("caller", "finished", func(p *api.Pod) bool {
			return p.Status.Phase == api.PodSucceeded || p.Status.Phase == api.PodFailed
		})
		if w.Spec.NodeName != "n1" || c.Spec.NodeName != "n3" {
			t.Fatalf("web on %s, caller on %s: want n1 and n3", w.Spec.NodeName, c.Spec.NodeName)
		}
		if c.Status.Phase != api.PodSucceeded {
			t.Fatalf("caller %s (%+v): the server did not see the caller's pod IP %s", c.Status.Phase, c.Status.ContainerStatuses, c.Status.PodIP)
		}
	})

	t.Run("delete removes containers and namespace", func(t *testing.T) {
		f.t = t
		w, err := f.pod("web")
		if err != nil {
			t.Fatal(err)
		}
		netns := "shoal-" + f.name + "-n1-" + strings.ReplaceAll(string(w.ObjectMeta.UID), "-", "")[:16]
		if !netnsExists(t, netns) {
			t.Fatalf("pod netns %s not found before delete", netns)
		}
		f.run("delete", "pod", "web", "--grace-period=1", "--wait") // it runs sleep, which ignores SIGTERM
		if _, err := f.try("get", "pod", "web"); err == nil {
			t.Fatal("pod still listed after delete")
		}
		sock := filepath.Join(f.stateRoot, f.name, "containerd", "containerd.sock")
		prefix := strings.ReplaceAll(string(w.ObjectMeta.UID), "-", "")[:12]
		waitFor(t, "containers and netns of web removed", func() bool {
			out, err := exec.Command("ctr", "-a", sock, "-n", "shoal-"+f.name+"-n1", "containers", "ls", "-q").CombinedOutput()
			if err != nil {
				t.Logf("ctr: %v %s", err, out)
				return false
			}
			return !strings.Contains(string(out), prefix) && !netnsExists(t, netns)
		})
	})

	t.Run("lab down leaves nothing behind", func(t *testing.T) {
		f.t = t
		l, err := lab.Load(f.stateRoot, f.name)
		if err != nil {
			t.Fatal(err)
		}
		f.run("lab", "down", f.name, "--state-root", f.stateRoot)
		out, _ := exec.Command("ip", "netns", "list").CombinedOutput()
		if strings.Contains(string(out), "shoal-"+f.name+"-") {
			t.Fatalf("namespaces left behind:\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(f.stateRoot, f.name)); !os.IsNotExist(err) {
			t.Fatalf("lab state dir left behind: %v", err)
		}
		ps, _ := exec.Command("pgrep", "-f", f.stateRoot).CombinedOutput()
		if strings.TrimSpace(string(ps)) != "" {
			t.Fatalf("processes left behind: %s", ps)
		}
		if err := exec.Command("ip", "link", "show", l.HostLink).Run(); err == nil {
			t.Fatalf("host link %s left behind", l.HostLink)
		}
	})
}

func containerStatus(p *api.Pod, name string) *api.ContainerStatus {
	for i := range p.Status.ContainerStatuses {
		if p.Status.ContainerStatuses[i].Name == name {
			return &p.Status.ContainerStatuses[i]
		}
	}
	return nil
}

func netnsExists(t *testing.T, name string) bool {
	_, err := os.Stat(filepath.Join("/run/netns", name))
	return err == nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
