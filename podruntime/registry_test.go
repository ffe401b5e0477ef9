package podruntime

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/podruntime/ociarchive"
)

// testRegistry is Debian's docker-registry on a loopback port, with
// skopeo to push into it.
type testRegistry struct {
	addr       string // 127.0.0.1:port
	user, pass string // set when it asks for a login
}

// startRegistry runs a registry for one test; with user set, it accepts
// only that login (htpasswd, bcrypt as the registry requires).
func startRegistry(t *testing.T, user, pass string) *testRegistry {
	t.Helper()
	for _, bin := range []string{"docker-registry", "skopeo"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (Debian packages docker-registry and skopeo)", bin)
		}
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	if user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: shoal-test\n    path: %s\n", htpasswd)
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("docker-registry", "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	// No Pdeathsig: it fires when the forking OS thread ends, and the
	// sandbox code ends threads on purpose; Cleanup stops the registry.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start docker-registry: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("registry on %s never answered: %v\n%s", addr, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &testRegistry{addr: addr, user: user, pass: pass}
}

// push builds a busybox image with shoal's own archive writer and copies it
// to repo:tag in the registry. A different variant makes a different image
// (the binary gets trailing bytes, which it ignores), so a tag can move.
func (g *testRegistry) push(t *testing.T, repoTag, variant string) {
	t.Helper()
	dir := t.TempDir()
	bin := "/bin/busybox"
	if variant != "" {
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		bin = filepath.Join(dir, "busybox")
		if err := os.WriteFile(bin, append(b, []byte("\x00shoal-variant-"+variant)...), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	archive := filepath.Join(dir, "image.tar")
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	if err := ociarchive.BuildBusybox(f, "shoal.test/push:1", bin); err != nil {
		t.Fatal(err)
	}
	f.Close()
	args := []string{"copy", "--quiet", "--dest-tls-verify=false"}
	if g.user != "" {
		args = append(args, "--dest-creds", g.user+":"+g.pass)
	}
	args = append(args, "oci-archive:"+archive, "docker://"+g.addr+"/"+repoTag)
	if out, err := exec.Command("skopeo", args...).CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy to %s: %v\n%s", repoTag, err, out)
	}
}

type staticCreds []RegistryCredential

func (c staticCreds) PullCredentials(context.Context, *api.Pod) ([]RegistryCredential, error) {
	return c, nil
}

func registryRuntime(t *testing.T, g *testRegistry, creds CredentialSource) (*Runtime, *recordedEvents) {
	events := &recordedEvents{}
	r := newTestRuntime(t, func(c *Config) {
		c.Registries = RegistryConfig{Insecure: []string{g.addr}}
		c.Credentials = creds
		c.Events = events
	})
	return r, events
}

func withPolicy(c api.Container, policy string) api.Container {
	c.ImagePullPolicy = api.PullPolicy(policy)
	return c
}

func TestPullOnFirstUseThenIfNotPresentReusesTheImage(t *testing.T) {
	g := startRegistry(t, "", "")
	r, events := registryRuntime(t, g, nil)
	image := g.addr + "/team/app:1"
	g.push(t, "team/app:1", "")

	first := newPod(t, "first", api.RestartAlways, withPolicy(shell("main", image, "exec sleep 1000"), "IfNotPresent"))
	syncUntil(t, r, first, "", "Running", func(st api.PodStatus) bool { return running(st, "main") })
	for _, want := range []string{"first Normal Pulling: Pulling image", "first Normal Pulled: Successfully pulled image"} {
		if !events.has(want) {
			t.Errorf("no event %q; events:\n%s", want, events)
		}
	}
	second := newPod(t, "second", api.RestartAlways, withPolicy(shell("main", image, "exec sleep 1000"), "IfNotPresent"))
	syncUntil(t, r, second, "", "Running", func(st api.PodStatus) bool { return running(st, "main") })
	if events.has("second Normal Pulling") {
		t.Errorf("the second pod pulled again; events:\n%s", events)
	}
	if !events.has("second Normal Pulled: Container image") {
		t.Errorf("no 'already present' event for the second pod; events:\n%s", events)
	}
}

func TestAlwaysResolvesATagThatMoved(t *testing.T) {
	g := startRegistry(t, "", "")
	r, _ := registryRuntime(t, g, nil)
	image := g.addr + "/team/moving" // no tag: latest, and Always as Kubernetes defaults it
	g.push(t, "team/moving:latest", "one")
	a := newPod(t, "a", api.RestartAlways, withPolicy(shell("main", image, "exec sleep 1000"), "Always"))
	stA := syncUntil(t, r, a, "", "Running", func(st api.PodStatus) bool { return running(st, "main") })

	g.push(t, "team/moving:latest", "two")
	b := newPod(t, "b", api.RestartAlways, withPolicy(shell("main", image, "exec sleep 1000"), "Always"))
	stB := syncUntil(t, r, b, "", "Running", func(st api.PodStatus) bool { return running(st, "main") })
	idA, idB := containerStatusOf(t, stA, "main").ImageID, containerStatusOf(t, stB, "main").ImageID
	if idA == "" || idA == idB {
		t.Errorf("image IDs %q then %q: the second pod should run the image the tag moved to", idA, idB)
	}
}

func TestWrongImageNameIsErrImagePullThenImagePullBackOff(t *testing.T) {
	g := startRegistry(t, "", "")
	r, events := registryRuntime(t, g, nil)
	image := g.addr + "/team/nothing:1"
	pod := newPod(t, "wrong", api.RestartAlways, withPolicy(shell("main", image, "true"), "IfNotPresent"))
	st := syncUntil(t, r, pod, "", "ErrImagePull", func(st api.PodStatus) bool {
		w := containerStatusOf(t, st, "main").State.Waiting
		return w != nil && w.Reason == ReasonErrImagePull
	})
	if w := containerStatusOf(t, st, "main").State.Waiting; !strings.Contains(w.Message, "not found") {
		t.Errorf("ErrImagePull message %q, want the registry's reason (not found)", w.Message)
	}
	st = syncUntil(t, r, pod, "", "ImagePullBackOff", func(st api.PodStatus) bool {
		w := containerStatusOf(t, st, "main").State.Waiting
		return w != nil && w.Reason == ReasonImagePullBackOff
	})
	if st.Phase != api.PodPending {
		t.Errorf("phase %s, want Pending", st.Phase)
	}
	for _, want := range []string{"Normal Pulling", "Warning Failed: Failed to pull image", "Warning Failed: Error: ErrImagePull", "Normal BackOff: Back-off pulling image"} {
		if !events.has(want) {
			t.Errorf("no event %q; events:\n%s", want, events)
		}
	}
}

func TestAuthenticatedRegistryNeedsThePullSecret(t *testing.T) {
	g := startRegistry(t, "shoal", "s3cret-pass")
	image := g.addr + "/private/app:1"
	g.push(t, "private/app:1", "")

	anon, _ := registryRuntime(t, g, nil)
	denied := newPod(t, "denied", api.RestartAlways, withPolicy(shell("main", image, "exec sleep 1000"), "IfNotPresent"))
	st := syncUntil(t, anon, denied, "", "ErrImagePull", func(st api.PodStatus) bool {
		w := containerStatusOf(t, st, "main").State.Waiting
		return w != nil && w.Reason == ReasonErrImagePull
	})
	msg := containerStatusOf(t, st, "main").State.Waiting.Message
	if !strings.Contains(msg, "401") && !strings.Contains(strings.ToLower(msg), "authoriz") {
		t.Errorf("message %q, want it to say the registry refused us", msg)
	}
	if err := anon.RemovePod(context.Background(), string(denied.ObjectMeta.UID)); err != nil {
		t.Fatal(err)
	}

	authed, _ := registryRuntime(t, g, staticCreds{{Registry: "http://" + g.addr, Username: "shoal", Password: "s3cret-pass"}})
	ok := newPod(t, "allowed", api.RestartAlways, withPolicy(shell("main", image, "exec sleep 1000"), "IfNotPresent"))
	ok.Spec.ImagePullSecrets = []api.LocalObjectReference{{Name: "regcred"}}
	syncUntil(t, authed, ok, "", "Running", func(st api.PodStatus) bool { return running(st, "main") })
}

func TestAnUnparseableImageNameIsInvalidImageName(t *testing.T) {
	r := newTestRuntime(t)
	pod := newPod(t, "badname", api.RestartAlways, shell("main", "UPPER/Case:1", "true"))
	st := syncUntil(t, r, pod, "", "InvalidImageName", func(st api.PodStatus) bool {
		w := containerStatusOf(t, st, "main").State.Waiting
		return w != nil && w.Reason == ReasonInvalidImageName
	})
	if w := containerStatusOf(t, st, "main").State.Waiting; !strings.Contains(w.Message, "UPPER/Case:1") {
		t.Errorf("message %q, want it to name the image", w.Message)
	}
}
