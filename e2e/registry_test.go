package e2e

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/shoal-dev/shoal/deploy/lab"
)

// labRegistry is the lab's guest namespace (lab.AttachGuest: plugged into
// the lab's bridge, removed by `shoal lab down` with whatever runs in it),
// where Debian's docker-registry serves on the lab network: the nodes
// reach it, nothing outside the host does.
type labRegistry struct {
	f  *fleet
	ns string
	ip netip.Addr
}

func newLabRegistry(t *testing.T, f *fleet) *labRegistry {
	t.Helper()
	for _, bin := range []string{"docker-registry", "skopeo"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (Debian packages docker-registry and skopeo)", bin)
		}
	}
	l, err := lab.Load(f.stateRoot, f.name)
	if err != nil {
		t.Fatal(err)
	}
	ns, ip, err := l.AttachGuest()
	if err != nil {
		t.Fatal(err)
	}
	return &labRegistry{f: f, ns: ns, ip: ip}
}

// serve starts a registry on port; with user set it takes only that login.
// It returns the registry's host:port as image references name it.
func (g *labRegistry) serve(t *testing.T, port int, user, pass string) string {
	t.Helper()
	// Under the lab's directory, so lab down removes it even when this
	// test process dies before its cleanup.
	dir := filepath.Join(g.f.stateRoot, g.f.name, fmt.Sprintf("registry-%d", port))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("%s:%d", g.ip, port)
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	if user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: shoal-e2e\n    path: %s\n", filepath.Join(dir, "htpasswd"))
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", g.ns, "docker-registry", "serve", filepath.Join(dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start docker-registry: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		logf.Close()
	})
	// The host reaches the lab network over the lab's host link.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return addr
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("registry on %s never answered: %v\n%s", addr, err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// push builds a busybox image with `shoal image build-busybox` and copies
// it with skopeo to addr/repoTag. Each variant is a different image (the
// binary gets trailing bytes it ignores), so a tag can be moved.
func (g *labRegistry) push(t *testing.T, addr, repoTag, variant, creds string) {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("busybox-static not installed")
	}
	bin := filepath.Join(dir, "busybox")
	if err := os.WriteFile(bin, append(b, []byte("\x00shoal-variant-"+variant)...), 0o755); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "image.tar")
	g.f.run("image", "build-busybox", "-o", archive, "--busybox", bin, "--ref", "shoal.local/pushed:1")
	args := []string{"copy", "--quiet", "--dest-tls-verify=false"}
	if creds != "" {
		args = append(args, "--dest-creds", creds)
	}
	args = append(args, "oci-archive:"+archive, "docker://"+addr+"/"+repoTag)
	if out, err := exec.Command("skopeo", args...).CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy to %s/%s: %v\n%s", addr, repoTag, err, out)
	}
}

func podWithImage(name, image, extra string) string {
	return `apiVersion: v1
kind: Pod
metadata: {name: ` + name + `}
spec:
` + extra + `  containers:
  - name: main
    image: ` + image + `
    command: ["sleep", "3600"]
`
}

// describeMatches waits until `shoal describe pod` shows every pattern.
func (f *fleet) describeMatches(t *testing.T, pod string, patterns ...string) string {
	t.Helper()
	var out string
	eventually(t, "describe pod "+pod+" showing "+strings.Join(patterns, ", "), func() string {
		out = f.run("describe", "pod", pod)
		for _, p := range patterns {
			if !regexp.MustCompile(p).MatchString(out) {
				return "no " + p + " in:\n" + out
			}
		}
		return ""
	})
	return out
}

// Images from real registries on the lab network (one lab for both, to
// keep CI short): pulled on first use, reused by IfNotPresent, re-resolved
// by Always after the tag moved, a wrong name reported as ErrImagePull then
// ImagePullBackOff; an htpasswd registry opened by a pull secret. The
// node is under constant disk pressure (a 1% high-water mark), so image
// garbage collection runs all along and must never take an image in use.
func TestImagesFromRegistriesOnTheLabNetwork(t *testing.T) {
	f := startFleet(t, labName("rg"), "--nodes", "1", "--agent-arg=--image-gc-high-threshold=1",
		"--agent-arg=--image-gc-low-threshold=0", "--agent-arg=--image-gc-interval=2s")
	g := newLabRegistry(t, f)
	// No subtests: the fleet's helpers fail the test that started it.
	openRegistry(t, f, g)
	authRegistry(t, f, g)
	garbageCollection(t, f, g)
}

// garbageCollection: an image goes once its last pod has gone, while the
// images of running pods stay.
func garbageCollection(t *testing.T, f *fleet, g *labRegistry) {
	reg := fmt.Sprintf("%s:%d", g.ip, 5000)
	g.push(t, reg, "team/gc:1", "gc", "")
	f.apply(podWithImage("gc", reg+"/team/gc:1", ""))
	f.waitPod("gc", "running", running)
	if out := f.run("image", "ls"); !strings.Contains(out, reg+"/team/gc:1") {
		t.Fatalf("image ls lacks the image of a running pod under disk pressure:\n%s", out)
	}
	f.run("delete", "pod", "gc", "--now")
	eventually(t, "garbage collection of the image no pod uses", func() string {
		if out := f.run("image", "ls"); strings.Contains(out, reg+"/team/gc:1") {
			return out
		}
		return ""
	})
	out := f.run("image", "ls")
	for _, inUse := range []string{reg + "/team/moving:latest", fmt.Sprintf("%s:%d/private/app:1", g.ip, 5001)} {
		if !strings.Contains(out, inUse) {
			t.Errorf("garbage collection took %s, which a running pod uses:\n%s", inUse, out)
		}
	}
	// The image goes before the line saying so is written.
	eventually(t, "the garbage collection in the agent log", func() string {
		if !strings.Contains(strings.Join(f.agentLogs(), ""), "image removed by garbage collection") {
			return "no such line"
		}
		return ""
	})
}

func openRegistry(t *testing.T, f *fleet, g *labRegistry) {
	reg := g.serve(t, 5000, "", "")
	g.push(t, reg, "team/app:1", "one", "")
	g.push(t, reg, "team/moving:latest", "one", "")

	f.apply(podWithImage("first", reg+"/team/app:1", ""))
	f.waitPod("first", "running", running)
	f.describeMatches(t, "first", `Normal\s+Pulling\s.*Pulling image "`+regexp.QuoteMeta(reg), `Normal\s+Pulled\s.*Successfully pulled image`)

	f.apply(podWithImage("second", reg+"/team/app:1", ""))
	f.waitPod("second", "running", running)
	out := f.describeMatches(t, "second", `Normal\s+Pulled\s.*already present on machine`)
	if regexp.MustCompile(`Normal\s+Pulling\s`).MatchString(out) {
		t.Errorf("IfNotPresent pulled a present image again:\n%s", out)
	}

	f.apply(podWithImage("moving1", reg+"/team/moving", ""))
	p1 := f.waitPod("moving1", "running", running)
	if p1.Spec.Containers[0].ImagePullPolicy != "Always" {
		t.Errorf("imagePullPolicy %q for an image without a tag, want the default Always", p1.Spec.Containers[0].ImagePullPolicy)
	}
	g.push(t, reg, "team/moving:latest", "two", "")
	f.apply(podWithImage("moving2", reg+"/team/moving", ""))
	p2 := f.waitPod("moving2", "running", running)
	if id1, id2 := p1.Status.ContainerStatuses[0].ImageID, p2.Status.ContainerStatuses[0].ImageID; id1 == "" || id1 == id2 {
		t.Errorf("image IDs %q then %q: Always should run what the moved tag names now", id1, id2)
	}

	f.apply(podWithImage("wrong", reg+"/team/nothing:1", ""))
	f.describeMatches(t, "wrong",
		`Reason:\s+ImagePullBackOff`,
		`Warning\s+Failed\s.*Failed to pull image .*not found`,
		`Warning\s+Failed\s.*Error: ErrImagePull`,
		`Normal\s+BackOff\s.*Back-off pulling image`)
	if p, err := f.pod("wrong"); err != nil || p.Status.Phase != "Pending" {
		t.Errorf("pod with a wrong image: %v, phase %v, want Pending", err, p)
	}

	app := reg + "/team/app:1"
	if out := f.run("image", "ls"); !strings.Contains(out, app) {
		t.Errorf("image ls lacks the pulled %s:\n%s", app, out)
	}
	if out, err := f.try("image", "rm", app); err == nil || !strings.Contains(out, "used by a container") {
		t.Errorf("image rm of an image pods use: %v\n%s", err, out)
	}
	f.run("delete", "pod", "first", "second", "--now")
	// Garbage collection may take it first: rm then finds nothing, and says so without failing.
	eventually(t, "image rm once no pod uses it", func() string {
		if out, err := f.try("image", "rm", app); err != nil {
			return out
		}
		return ""
	})
	if out := f.run("image", "ls"); strings.Contains(out, app) {
		t.Errorf("image ls still lists the removed %s:\n%s", app, out)
	}
}

// A registry that takes one htpasswd login: a pod without a pull secret
// fails with the registry's refusal, one with a dockerconfigjson Secret
// runs; `get secrets` never prints the password.
func authRegistry(t *testing.T, f *fleet, g *labRegistry) {
	const user, pass = "shoal", "e2e-s3cret"
	reg := g.serve(t, 5001, user, pass)
	g.push(t, reg, "private/app:1", "one", user+":"+pass)

	f.apply(podWithImage("denied", reg+"/private/app:1", ""))
	f.describeMatches(t, "denied", `Warning\s+Failed\s.*Failed to pull image .*(401|authoriz)`, `Reason:\s+(ErrImagePull|ImagePullBackOff)`)

	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	f.run("create", "secret", "docker-registry", "regcred", "--docker-server", reg, "--docker-username", user, "--docker-password", pass)
	out := f.run("get", "secrets")
	if !regexp.MustCompile(`(?m)^regcred\s+kubernetes.io/dockerconfigjson\s+1\s+`).MatchString(out) || strings.Contains(out, pass) || strings.Contains(out, auth) {
		t.Errorf("get secrets:\n%s\nwant NAME TYPE DATA AGE and no credentials", out)
	}
	if out := f.run("get", "secret", "regcred", "-o", "yaml"); !strings.Contains(out, ".dockerconfigjson:") {
		t.Errorf("get secret -o yaml holds no data:\n%s", out)
	}

	f.apply(podWithImage("allowed", reg+"/private/app:1", "  imagePullSecrets:\n  - name: regcred\n"))
	f.waitPod("allowed", "running", running)
	for _, l := range f.agentLogs() {
		if strings.Contains(l, pass) || strings.Contains(l, auth) {
			t.Errorf("an agent log holds the registry password")
		}
	}
}

// agentLogs returns the text of every node's agent log.
func (f *fleet) agentLogs() []string {
	logs, _ := filepath.Glob(filepath.Join(f.stateRoot, f.name, "*", "agent.log"))
	var out []string
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		out = append(out, string(b))
	}
	return out
}
