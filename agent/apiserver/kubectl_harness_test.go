package apiserver

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// kubectlAgainst returns a runner of the machine's kubectl against the API
// at base, with its own kubeconfig and home in a temporary directory (also
// returned, for manifests). The test is skipped where kubectl is missing.
func kubectlAgainst(t *testing.T, base string) (func(args ...string) (string, error), string) {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "+base+
		"}\ncontexts:\n- name: c\n  context: {cluster: c, namespace: default}\ncurrent-context: c\nusers: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, kubectl, args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kc, "HOME="+dir)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}, dir
}
