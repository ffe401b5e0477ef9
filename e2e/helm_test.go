package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// helmBinary is the Helm v4 the project builds (go install
// helm.sh/helm/v4/cmd/helm@v4.3.2).
const helmBinary = "/root/go/bin/helm"

// TestHelmCreateChart installs the chart `helm create` makes, unchanged,
// with --wait, runs helm test (its hook pod fetches NAME:80 by the
// Service's name with image busybox), upgrades it to three replicas, rolls
// it back and uninstalls it, leaving nothing of the release. The image is
// the project's busybox made to serve HTTP on port 80 (the chart sets no
// command). The image named busybox is the project's too, with the
// static Go wget of e2e/clientgo/wget: Debian's static busybox (glibc)
// cannot resolve names, as the real busybox image (musl) can.
func TestHelmCreateChart(t *testing.T) {
	if _, err := os.Stat(helmBinary); err != nil {
		t.Skip("helm is not installed at " + helmBinary)
	}
	wget := buildInClientGoModule(t, "./wget", "wget")
	// The chart's test pod runs image busybox, tag latest, so pull policy
	// Always: the nodes pull it from a docker.io mirror on the lab network
	// (a registry in the lab's guest namespace, at .250 of a lab range
	// chosen here), as an air-gapped cluster does.
	labCIDR := fmt.Sprintf("10.250.%d.0/24", 100+os.Getpid()%100)
	mirror := fmt.Sprintf("10.250.%d.250:5000", 100+os.Getpid()%100)
	k := startKubectlFleetWith(t, "pd", 2, "--lab-cidr", labCIDR, "--agent-arg=--registry-mirror=http://"+mirror)
	reg := newLabRegistry(t, k.fleet)
	if addr := reg.serve(t, 5000, "", ""); addr != mirror {
		t.Fatalf("the lab registry is at %s, the agents' mirror at %s", addr, mirror)
	}
	archive := filepath.Join(t.TempDir(), "httpd.tar")
	k.run("image", "build-busybox", "-o", archive, "--ref", "shoal.local/busybox-httpd:1",
		"--cmd", "sh", "--cmd", "-c", "--cmd", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 80 -h /www")
	k.run("image", "import", archive)
	archive = filepath.Join(t.TempDir(), "busybox.tar")
	k.run("image", "build-busybox", "-o", archive, "--ref", "docker.io/library/busybox:latest", "--add", wget+":/bin/wget")
	if out, err := exec.Command("skopeo", "copy", "--quiet", "--dest-tls-verify=false",
		"oci-archive:"+archive, "docker://"+mirror+"/library/busybox:latest").CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy busybox to the mirror: %v\n%s", err, out)
	}

	chart := filepath.Join(k.dir, "demo")
	helm := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, helmBinary, args...)
		cmd.Env = append(os.Environ(), k.env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	mustHelm := func(args ...string) string {
		t.Helper()
		out, err := helm(args...)
		if err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	mustHelm("create", chart)
	img := []string{"--set", "image.repository=shoal.local/busybox-httpd", "--set", "image.tag=1"}

	tmpl := mustHelm(append([]string{"template", "demo", chart}, img...)...)
	if out := k.ok("apply", "--dry-run=server", "-f", k.file("demo.yaml", tmpl)); !strings.Contains(out, "deployment.apps/demo created (server dry run)") {
		t.Fatalf("helm template | kubectl apply --dry-run=server:\n%s", out)
	}
	mustHelm(append([]string{"install", "demo", chart, "--wait", "--timeout", "2m"}, img...)...)
	if out := k.ok("get", "secrets", "-l", "owner=helm,name=demo"); !strings.Contains(out, "sh.helm.release.v1.demo.v1") {
		t.Fatalf("release secret by label:\n%s", out)
	}
	k.ok("get", "sa", "demo")
	if out := mustHelm("test", "demo", "--timeout", "2m"); !strings.Contains(out, "demo-test-connection") || !strings.Contains(out, "Succeeded") {
		t.Fatalf("helm test:\n%s", out)
	}
	if out := k.ok("logs", "demo-test-connection"); !strings.Contains(out, "Connecting to demo:80") || !strings.Contains(out, "saved") {
		t.Fatalf("helm test's hook pod did not fetch demo:80 by name:\n%s", out)
	}
	// The chart's test pod has no hook-delete-policy: Helm keeps it, on
	// Kubernetes too, and uninstall leaves it.
	k.ok("delete", "pod", "demo-test-connection")
	mustHelm(append([]string{"upgrade", "demo", chart, "--set", "replicaCount=3", "--wait", "--timeout", "2m"}, img...)...)
	if out := k.ok("get", "deploy", "demo"); !kubeRow("demo", "3/3").MatchString(out) {
		t.Fatalf("after upgrade:\n%s", out)
	}
	mustHelm("rollback", "demo", "1", "--wait", "--timeout", "2m")
	k.eventually("one replica after the rollback", func(out string) bool { return kubeRow("demo", "1/1").MatchString(out) }, "get", "deploy", "demo")
	if out := mustHelm("history", "demo"); !strings.Contains(out, "Rollback to 1") {
		t.Fatalf("history:\n%s", out)
	}
	mustHelm("uninstall", "demo", "--wait", "--timeout", "2m")
	k.eventually("nothing of the release left", func(out string) bool { return !strings.Contains(out, "demo") },
		"get", "deploy,rs,pods,svc,sa,secrets", "-o", "name")

	// Bad input: a template with a field Deployments do not have. Helm
	// asks for strict field validation; the install is refused naming the
	// field and the object, the release is recorded failed, and uninstall
	// leaves nothing of what the install did create.
	bad := filepath.Join(k.dir, "bad")
	mustHelm("create", bad)
	tmplFile := filepath.Join(bad, "templates", "deployment.yaml")
	b, err := os.ReadFile(tmplFile)
	if err != nil {
		t.Fatal(err)
	}
	withBogus := strings.Replace(string(b), "\nspec:\n", "\nspec:\n  replicaz: 2\n", 1)
	if withBogus == string(b) {
		t.Fatalf("no spec: in %s", tmplFile)
	}
	if err := os.WriteFile(tmplFile, []byte(withBogus), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := helm(append([]string{"install", "bad", bad, "--wait", "--timeout", "1m"}, img...)...)
	if err == nil || !strings.Contains(out, ".spec.replicaz: field not declared in schema") || !strings.Contains(out, "default/bad") || !strings.Contains(out, "Kind=Deployment") {
		t.Fatalf("helm install of a chart with an unknown field: %v, want refused naming .spec.replicaz and Deployment default/bad:\n%s", err, out)
	}
	t.Logf("refused as: %s", out)
	if out := mustHelm("status", "bad"); !strings.Contains(out, "STATUS: failed") {
		t.Fatalf("the refused release is not marked failed:\n%s", out)
	}
	if out := k.ok("get", "deploy", "-o", "name"); strings.Contains(out, "bad") {
		t.Fatalf("the refused Deployment exists:\n%s", out)
	}
	mustHelm("uninstall", "bad", "--wait", "--timeout", "2m")
	k.eventually("nothing of the refused release left", func(out string) bool { return !strings.Contains(out, "bad") },
		"get", "deploy,rs,pods,svc,sa,secrets", "-o", "name")
}
