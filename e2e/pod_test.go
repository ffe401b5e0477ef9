package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// The seed's two-container example, with its volume name typo fixed, an
// emptyDir instead of a hostPath and busybox playing nginx and debian: the
// debian container writes index.html into the shared volume and exits 0
// only once the nginx container serves it back over localhost.
const sharedVolume = `apiVersion: v1
kind: Pod
metadata:
  name: two-containers
spec:
  restartPolicy: Never
  volumes:
  - name: shared-data
    emptyDir: {}
  containers:
  - name: nginx-container
    image: ` + image + `
    command: ["httpd", "-f", "-p", "80", "-h", "/usr/share/nginx/html"]
    volumeMounts:
    - name: shared-data
      mountPath: /usr/share/nginx/html
  - name: debian-container
    image: ` + image + `
    volumeMounts:
    - name: shared-data
      mountPath: /pod-data
    command: ["/bin/sh"]
    args: ["-c", "echo hello from the debian container > /pod-data/index.html; i=0; until wget -q -O - http://127.0.0.1:80/index.html | grep -q 'hello from the debian'; do i=$((i+1)); [ $i -gt 100 ] && exit 2; sleep 0.2; done"]
`

// Two init containers append to a file in order; the app checks the order.
const initChain = `apiVersion: v1
kind: Pod
metadata: {name: init-chain}
spec:
  volumes: [{name: work, emptyDir: {}}]
  initContainers:
  - name: first
    image: ` + image + `
    command: ["sh", "-c", "sleep 3; echo first >> /work/order"]
    volumeMounts: [{name: work, mountPath: /work}]
  - name: second
    image: ` + image + `
    command: ["sh", "-c", "echo second >> /work/order"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: app
    image: ` + image + `
    command: ["sh", "-c", "test \"$(cat /work/order)\" = \"$(printf 'first\\nsecond')\" || exit 3; exec sleep 3600"]
    volumeMounts: [{name: work, mountPath: /work}]
`

// Healthy for two seconds, then its liveness probe fails for good.
const liveness = `apiVersion: v1
kind: Pod
metadata: {name: liveness}
spec:
  containers:
  - name: main
    image: ` + image + `
    command: ["sh", "-c", "touch /tmp/healthy; sleep 2; rm /tmp/healthy; exec sleep 3600"]
    livenessProbe:
      exec: {command: ["cat", "/tmp/healthy"]}
      periodSeconds: 1
      failureThreshold: 1
`

// Serves /ready only after three seconds; readiness probes it by port name.
const readiness = `apiVersion: v1
kind: Pod
metadata: {name: readiness}
spec:
  containers:
  - name: web
    image: ` + image + `
    command: ["sh", "-c", "mkdir -p /www; sleep 3; echo ok > /www/ready; exec httpd -f -p 8080 -h /www"]
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /ready, port: http}
      periodSeconds: 1
`

const crashLoop = `apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  containers:
  - name: main
    image: ` + image + `
    command: ["sh", "-c", "echo crashing; exit 1"]
`

const imageChangeTmpl = `apiVersion: v1
kind: Pod
metadata: {name: upgrade}
spec:
  containers:
  - name: app
    image: IMAGE
    command: ["sleep", "3600"]
  - name: sidecar
    image: ` + image + `
    command: ["sleep", "3600"]
`

// A failing init container: retried with back-off under Always, the end
// of the pod under Never.
const failingInitTmpl = `apiVersion: v1
kind: Pod
metadata: {name: NAME}
spec:
  restartPolicy: POLICY
  initContainers:
  - name: setup
    image: ` + image + `
    command: ["sh", "-c", "exit 1"]
  containers:
  - name: app
    image: ` + image + `
    command: ["sleep", "3600"]
`

func condition(p *api.Pod, typ api.PodConditionType) string {
	for _, c := range p.Status.Conditions {
		if c.Type == typ {
			return string(c.Status)
		}
	}
	return ""
}

func TestPodFeatures(t *testing.T) {
	f := startFleet(t, labName("pa"), "--nodes", "3")
	f.importBusybox()

	t.Run("containers share an emptyDir volume", func(t *testing.T) {
		f.t = t
		f.apply(sharedVolume)
		p := f.waitPod("two-containers", "debian-container finished", func(p *api.Pod) bool {
			cs := containerStatus(p, "debian-container")
			return cs != nil && cs.State.Terminated != nil
		})
		if code := containerStatus(p, "debian-container").State.Terminated.ExitCode; code != 0 {
			t.Fatalf("debian-container exit %d: nginx-container did not serve the file it wrote", code)
		}
		if cs := containerStatus(p, "nginx-container"); cs == nil || cs.State.Running == nil {
			t.Fatalf("nginx-container not running: %+v", cs)
		}
	})

	t.Run("a mount of a volume that does not exist is refused naming both", func(t *testing.T) {
		f.t = t
		bad := strings.Replace(sharedVolume, "- name: shared-data\n    emptyDir", "- name: shard-data\n    emptyDir", 1)
		path := filepath.Join(t.TempDir(), "bad.yaml")
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := f.try("apply", "-f", path)
		want := `spec.containers[0].volumeMounts[0].name: invalid value "shared-data": no volume of that name (volumes: shard-data)`
		if err == nil || !strings.Contains(out, want) {
			t.Fatalf("apply of the seed's typo: err %v, output:\n%s\nwant it to contain %s", err, out, want)
		}
	})

	t.Run("init containers run in order before the app", func(t *testing.T) {
		f.t = t
		f.apply(initChain)
		waitFor(t, "get pods to show Init:0/2", func() bool {
			out, _ := f.try("get", "pods")
			return strings.Contains(out, "Init:0/2")
		})
		waitFor(t, "Initialized False while the first init container runs", func() bool {
			p, err := f.pod("init-chain")
			return err == nil && condition(p, "Initialized") == "False" && condition(p, "Ready") == "False"
		})
		p := f.waitPod("init-chain", "Running", running)
		if condition(p, "Initialized") != "True" {
			t.Errorf("Initialized condition %q", condition(p, "Initialized"))
		}
		if len(p.Status.InitContainerStatuses) != 2 {
			t.Fatalf("init container statuses: %+v", p.Status.InitContainerStatuses)
		}
		for _, ic := range p.Status.InitContainerStatuses {
			if ic.State.Terminated == nil || ic.State.Terminated.ExitCode != 0 {
				t.Errorf("init %s: %+v", ic.Name, ic.State)
			}
		}
		first, second := p.Status.InitContainerStatuses[0].State.Terminated, p.Status.InitContainerStatuses[1].State.Terminated
		if second.StartedAt.Time.Before(first.FinishedAt.Time) {
			t.Errorf("second init started %s before the first finished %s", second.StartedAt, first.FinishedAt)
		}
	})

	t.Run("a failing init container shows Init:CrashLoopBackOff or Init:Error", func(t *testing.T) {
		f.t = t
		f.apply(strings.NewReplacer("NAME", "init-retry", "POLICY", "Always").Replace(failingInitTmpl))
		f.apply(strings.NewReplacer("NAME", "init-fail", "POLICY", "Never").Replace(failingInitTmpl))
		want := map[string]string{"init-retry": "Init:CrashLoopBackOff", "init-fail": "Init:Error"}
		waitFor(t, "get pods to show the init failures", func() bool {
			out, _ := f.try("get", "pods")
			n := 0
			for _, line := range strings.Split(out, "\n") {
				fields := strings.Fields(line)
				if len(fields) > 2 && want[fields[0]] != "" && strings.Contains(line, want[fields[0]]) {
					n++
				}
			}
			return n == len(want)
		})
		p, err := f.pod("init-fail")
		if err != nil {
			t.Fatal(err)
		}
		if p.Status.Phase != api.PodFailed {
			t.Errorf("phase %s, want Failed", p.Status.Phase)
		}
		if cs := containerStatus(p, "app"); cs == nil || cs.State.Running != nil || cs.State.Terminated != nil {
			t.Errorf("the app container ran after its init container failed: %+v", cs)
		}
	})

	t.Run("a failing liveness probe restarts the container", func(t *testing.T) {
		f.t = t
		f.apply(liveness)
		p := f.waitPod("liveness", "restarted by its probe", func(p *api.Pod) bool {
			cs := containerStatus(p, "main")
			return cs != nil && cs.RestartCount >= 1 && cs.LastTerminationState.Terminated != nil
		})
		last := containerStatus(p, "main").LastTerminationState.Terminated
		if last.ExitCode != 137 && last.ExitCode != 143 {
			t.Errorf("last state %+v, want the exit code of a kill (137 or 143)", last)
		}
		out := f.run("get", "pods")
		if !strings.Contains(out, "liveness") {
			t.Errorf("get pods:\n%s", out)
		}
	})

	t.Run("a readiness probe gates Ready", func(t *testing.T) {
		f.t = t
		f.apply(readiness)
		p := f.waitPod("readiness", "running", running)
		if condition(p, "Ready") == "True" && time.Since(containerStatus(p, "web").State.Running.StartedAt.Time) < 3*time.Second {
			t.Fatalf("Ready before /ready exists: %+v", p.Status.Conditions)
		}
		p = f.waitPod("readiness", "Ready", func(p *api.Pod) bool { return condition(p, "Ready") == "True" })
		if cs := containerStatus(p, "web"); !cs.Ready || cs.RestartCount != 0 {
			t.Errorf("container status %+v", cs)
		}
	})

	t.Run("a crash-looping container shows CrashLoopBackOff", func(t *testing.T) {
		f.t = t
		f.apply(crashLoop)
		waitFor(t, "get pods to show CrashLoopBackOff", func() bool {
			out, _ := f.try("get", "pods")
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "crasher ") && strings.Contains(line, "CrashLoopBackOff") {
					return true
				}
			}
			return false
		})
		p, err := f.pod("crasher")
		if err != nil {
			t.Fatal(err)
		}
		cs := containerStatus(p, "main")
		if cs.RestartCount < 1 || cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 1 {
			t.Errorf("status %+v, want restarts and last exit code 1", cs)
		}
		backOff := regexp.MustCompile(`(?m)^\s+Warning\s+BackOff\s+.*Back-off \S+ restarting failed container main`)
		waitFor(t, "the back-off in shoal describe", func() bool {
			out, _ := f.try("describe", "pod", "crasher")
			return backOff.MatchString(out)
		})
	})

	t.Run("changing one container's image restarts only that container", func(t *testing.T) {
		f.t = t
		archive := filepath.Join(t.TempDir(), "busybox2.tar")
		f.run("image", "build-busybox", "-o", archive, "--ref", "shoal.local/busybox:2")
		f.run("image", "import", archive)
		f.apply(strings.Replace(imageChangeTmpl, "IMAGE", image, 1))
		before := f.waitPod("upgrade", "Running", running)
		f.apply(strings.Replace(imageChangeTmpl, "IMAGE", "shoal.local/busybox:2", 1))
		after := f.waitPod("upgrade", "running the new image", func(p *api.Pod) bool {
			cs := containerStatus(p, "app")
			return running(p) && cs.Image == "shoal.local/busybox:2"
		})
		if after.Status.PodIP != before.Status.PodIP {
			t.Errorf("pod IP changed from %s to %s", before.Status.PodIP, after.Status.PodIP)
		}
		sb, sa := containerStatus(before, "sidecar").State.Running.StartedAt, containerStatus(after, "sidecar").State.Running.StartedAt
		if !sb.Time.Equal(sa.Time) {
			t.Errorf("sidecar restarted: started %s, now %s", sb, sa)
		}
		ab, aa := containerStatus(before, "app").State.Running.StartedAt, containerStatus(after, "app").State.Running.StartedAt
		if !aa.Time.After(ab.Time) {
			t.Errorf("app not restarted: started %s, now %s", ab, aa)
		}
	})
}
