package apiserver

import (
	"strings"
	"testing"
)

// kubectl auth and the small verbs of kubectl's daily surface, through the
// machine's kubectl against the API in process.
func TestKubectlAuthVersionAndLivez(t *testing.T) {
	base, _ := serviceAPI(t, "")
	run, _ := kubectlAgainst(t, base)
	expect := func(wantErr bool, want string, args ...string) {
		t.Helper()
		out, err := run(args...)
		if (err != nil) != wantErr || !strings.Contains(out, want) {
			t.Errorf("kubectl %s: %v\n%s\nwant %q", strings.Join(args, " "), err, out, want)
		}
	}
	expect(false, "yes", "auth", "can-i", "create", "pods")
	expect(false, "yes", "auth", "can-i", "patch", "deployments.apps", "--subresource=scale")
	expect(false, "yes", "auth", "can-i", "get", "pods", "--subresource=log")
	// A resource shoal does not serve: no, and why (kubectl exits 1 on "no").
	expect(true, "no", "auth", "can-i", "create", "ingresses.networking.k8s.io")
	expect(true, "no", "auth", "can-i", "delete", "endpoints")
	out, err := run("auth", "can-i", "--list")
	if err != nil || !strings.Contains(strings.Join(strings.Fields(out), " "), "pods [] [] [create delete deletecollection get list patch update watch]") {
		t.Errorf("auth can-i --list: %v\n%s", err, out)
	}
	expect(false, "system:anonymous", "auth", "whoami")
	expect(false, "Server Version: v1.32.0", "version")
	expect(false, "ok", "get", "--raw", "/livez")
	expect(false, "Kubernetes control plane is running at "+base, "cluster-info")
}
