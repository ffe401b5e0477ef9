package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNamespacesAndGarbageCollection drives Namespaces and ownerReference
// garbage collection through the machine's kubectl: a namespace is
// created, used and deleted with everything in it (its pods stopped on
// their nodes), creating into a missing namespace is refused with
// Kubernetes' message, and deletes honour --cascade.
func TestNamespacesAndGarbageCollection(t *testing.T) {
	k := startKubectlFleet(t)

	out := k.fails("run", "early", "--image="+image, "-n", "team", "--", "sleep", "3600")
	if !strings.Contains(out, `Error from server (NotFound): namespaces "team" not found`) {
		t.Fatalf("kubectl run into a missing namespace:\n%s", out)
	}
	if out := k.ok("create", "namespace", "team"); !strings.Contains(out, "namespace/team created") {
		t.Fatalf("kubectl create namespace:\n%s", out)
	}
	out = k.eventually("the system namespaces and team, Active", func(out string) bool {
		return kubeRow("default", "Active").MatchString(out) && kubeRow("kube-system", "Active").MatchString(out) &&
			kubeRow("team", "Active").MatchString(out)
	}, "get", "ns")
	t.Logf("kubectl get ns:\n%s", out)

	k.ok("run", "solo", "--image="+image, "-n", "team", "--", "sleep", "3600")
	k.ok("create", "deployment", "web", "--image="+image, "--replicas=2", "-n", "team", "--", "sleep", "100000")
	k.eventually("2 of 2 ready", kubeRow("web", "2/2", "2", "2").MatchString, "get", "deployment", "web", "-n", "team")
	k.eventually("solo running", kubeRow("solo", "1/1", "Running").MatchString, "get", "pod", "solo", "-n", "team")
	var pods struct {
		Items []struct {
			Metadata struct{ UID string }
			Spec     struct{ NodeName string }
		}
	}
	if err := json.Unmarshal([]byte(k.ok("get", "pods", "-n", "team", "-o", "json")), &pods); err != nil || len(pods.Items) != 3 {
		t.Fatalf("pods of team: %d, %v", len(pods.Items), err)
	}

	// A watch sees it Terminating while the leader removes what it
	// holds, then gone: two entries, two events.
	watch := k.watch(t, "get", "ns", "team", "--watch", "-o", "custom-columns=NAME:.metadata.name,PHASE:.status.phase")
	waitFor(t, "the watch's first line", func() bool { return kubeRow("team", "Active").MatchString(watch.String()) })
	if out := k.ok("delete", "namespace", "team", "--wait=false"); !strings.Contains(out, `namespace "team" deleted`) {
		t.Fatalf("kubectl delete namespace:\n%s", out)
	}
	waitFor(t, "namespace team gone", func() bool {
		out, err := k.try("get", "ns", "team")
		return err != nil && strings.Contains(out, `namespaces "team" not found`)
	})
	for deadline := time.Now().Add(30 * time.Second); !kubeRow("team", "Terminating").MatchString(watch.String()); {
		if time.Now().After(deadline) {
			t.Fatalf("kubectl get ns team --watch never showed it Terminating:\n%s", watch.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out := k.ok("get", "pods,replicasets,deployments", "-n", "team"); !strings.Contains(out, "No resources found in team namespace.") {
		t.Fatalf("objects left in the deleted namespace:\n%s", out)
	}
	sock := filepath.Join(k.stateRoot, k.name, "containerd", "containerd.sock")
	waitFor(t, "the namespace's containers stopped on their nodes", func() bool {
		for _, p := range pods.Items {
			prefix := strings.ReplaceAll(p.Metadata.UID, "-", "")[:12]
			out, err := exec.Command("ctr", "-a", sock, "-n", "shoal-"+k.name+"-"+p.Spec.NodeName, "containers", "ls", "-q").CombinedOutput()
			if err != nil || strings.Contains(string(out), prefix) {
				return false
			}
		}
		return true
	})
	if out := k.fails("run", "late", "--image="+image, "-n", "team", "--", "sleep", "3600"); !strings.Contains(out, `namespaces "team" not found`) {
		t.Fatalf("kubectl run into the deleted namespace:\n%s", out)
	}

	t.Run("delete namespace waits until it is gone", func(t *testing.T) {
		k.t = t
		k.ok("create", "namespace", "scratch")
		k.ok("run", "p", "--image="+image, "-n", "scratch", "--", "sleep", "3600")
		// kubectl's --wait (the default) watches the namespace by name
		// until the DELETED event.
		if out := k.ok("delete", "namespace", "scratch", "--timeout=60s"); !strings.Contains(out, `namespace "scratch" deleted`) {
			t.Fatalf("kubectl delete namespace:\n%s", out)
		}
		if out, err := k.try("get", "pod", "p", "-n", "scratch"); err == nil || !strings.Contains(out, "not found") {
			t.Fatalf("pod of the deleted namespace:\n%s", out)
		}
		out := k.fails("delete", "namespace", "default")
		if !strings.Contains(out, `Error from server (Forbidden): namespaces "default" is forbidden: this namespace may not be deleted`) {
			t.Fatalf("kubectl delete namespace default:\n%s", out)
		}
	})

	// The README's tour: the seed's pod in its own namespace, which the
	// manifest creates first.
	t.Run("shoal apply of kubia-manual creates its namespace", func(t *testing.T) {
		k.t = t
		for _, verb := range []string{"created", "configured"} {
			if out := k.run("apply", "-f", "../examples/kubia-manual.yaml"); !strings.Contains(out, "namespace/custom-namespace "+verb) {
				t.Fatalf("shoal apply (want namespace %s):\n%s", verb, out)
			}
		}
		k.eventually("custom-namespace Active", kubeRow("custom-namespace", "Active").MatchString, "get", "ns", "custom-namespace")
		k.eventually("kubia-manual running", kubeRow("kubia-manual", "1/1", "Running").MatchString, "get", "pods", "-n", "custom-namespace")
	})

	t.Run("cascade orphan keeps the ReplicaSets and pods, which the Deployment adopts again", func(t *testing.T) {
		k.t = t
		k.ok("create", "deployment", "keep", "--image="+image, "--replicas=2", "--", "sleep", "100000")
		k.eventually("2 of 2 ready", kubeRow("keep", "2/2", "2", "2").MatchString, "get", "deployment", "keep")
		k.ok("delete", "deployment", "keep", "--cascade=orphan")
		rs := k.ok("get", "rs", "-l", "app=keep", "-o", "jsonpath={range .items[*]}{.metadata.name} {.metadata.ownerReferences}{\"\\n\"}{end}")
		if lines := strings.Fields(strings.TrimSpace(rs)); len(lines) != 1 || !strings.HasPrefix(lines[0], "keep-") {
			t.Fatalf("ReplicaSets after the orphaning delete (want one, without owner):\n%s", rs)
		}
		k.eventually("2 pods still running", func(out string) bool { return strings.Count(out, "Running") == 2 }, "get", "pods", "-l", "app=keep")
		uids := k.ok("get", "pods", "-l", "app=keep", "-o", "jsonpath={.items[*].metadata.uid}")
		// The same Deployment again adopts the orphaned ReplicaSet by its
		// labels, and with it the pods.
		k.ok("create", "deployment", "keep", "--image="+image, "--replicas=2", "--", "sleep", "100000")
		k.eventually("2 of 2 ready again", kubeRow("keep", "2/2", "2", "2").MatchString, "get", "deployment", "keep")
		owner := k.ok("get", "rs", "-l", "app=keep", "-o", "jsonpath={.items[*].metadata.ownerReferences[0].kind}/{.items[*].metadata.ownerReferences[0].name}")
		if owner != "Deployment/keep" {
			t.Fatalf("the orphaned ReplicaSet's owner after the Deployment came back: %q", owner)
		}
		if again := k.ok("get", "pods", "-l", "app=keep", "-o", "jsonpath={.items[*].metadata.uid}"); again != uids {
			t.Fatalf("pods replaced on adoption: %s, were %s", again, uids)
		}
		k.ok("delete", "deployment", "keep")
		k.eventually("the ReplicaSet and pods go with the Deployment", kubeContains("No resources found in default namespace."), "get", "rs,pods", "-l", "app=keep")
	})

	t.Run("cascade foreground and background take the dependents", func(t *testing.T) {
		k.t = t
		for _, cascade := range []string{"foreground", "background"} {
			k.ok("create", "deployment", "gone", "--image="+image, "--replicas=1", "--", "sleep", "100000")
			k.eventually("1 of 1 ready", kubeRow("gone", "1/1", "1", "1").MatchString, "get", "deployment", "gone")
			k.ok("delete", "deployment", "gone", "--cascade="+cascade)
			k.eventually("no ReplicaSets nor pods", kubeContains("No resources found in default namespace."), "get", "rs,pods", "-l", "app=gone")
		}
	})

	t.Run("an object whose owner is gone is collected", func(t *testing.T) {
		k.t = t
		k.ok("run", "owner", "--image="+image, "--", "sleep", "3600")
		uid := k.ok("get", "pod", "owner", "-o", "jsonpath={.metadata.uid}")
		secret := func(name, ownerUID string) string {
			return `apiVersion: v1
kind: Secret
metadata:
  name: ` + name + `
  ownerReferences:
  - {apiVersion: v1, kind: Pod, name: owner, uid: ` + ownerUID + `}
stringData: {k: v}
`
		}
		k.ok("apply", "-f", k.file("owned.yaml", secret("owned", uid)))
		k.ok("apply", "-f", k.file("stray.yaml", secret("stray", "6c1a3f4e-0000-4000-8000-000000000000")))
		k.eventually("the stray secret collected", func(out string) bool {
			return kubeRow("owned").MatchString(out) && !strings.Contains(out, "stray")
		}, "get", "secrets")
		k.ok("delete", "pod", "owner", "--wait=false", "--grace-period=1")
		k.eventually("the owned secret goes with its pod", func(out string) bool { return !strings.Contains(out, "owned") }, "get", "secrets")
	})
}

// syncBuffer is a bytes.Buffer a command writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// watch runs a kubectl command that keeps running (get --watch) until the
// test ends, and returns what it has printed so far.
func (k *kubectlFleet) watch(t *testing.T, args ...string) *syncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, k.kubectl, args...)
	cmd.Env = append(os.Environ(), k.env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	return out
}
