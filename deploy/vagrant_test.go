package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// vagrant validate loads the Vagrantfile as `vagrant up` would (Ruby,
// provider blocks, provisioner settings) without a hypervisor. It runs on a
// copy so the secrets it makes stay out of the checkout. CI installs
// Debian's vagrant package; elsewhere the test says why it skips.
func TestVagrantValidate(t *testing.T) {
	if _, err := exec.LookPath("vagrant"); err != nil {
		t.Skip("vagrant is not installed (apt-get install vagrant): the Vagrantfile is not validated")
	}
	dir := filepath.Join(t.TempDir(), "vagrant")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"Vagrantfile", "provision.sh"} {
		b, err := os.ReadFile(filepath.Join("vagrant", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// SHOAL_TLS=1 makes its CA and certificates with bin/shoal only when
	// they are missing: placeholders stand in for them here.
	tlsDir := filepath.Join(dir, ".secrets", "tls")
	if err := os.MkdirAll(tlsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	files := []string{"ca.pem"}
	for i := 1; i <= 5; i++ {
		files = append(files, fmt.Sprintf("n%d.pem", i), fmt.Sprintf("n%d-key.pem", i))
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(tlsDir, f), []byte("placeholder\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, env := range [][]string{nil, {"SHOAL_NODES=5"}, {"SHOAL_NODES=5", "SHOAL_TLS=1"}, {"SHOAL_NODES=5", "SHOAL_SITES=2"}} {
		cmd := exec.Command("vagrant", "validate")
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), "VAGRANT_HOME="+filepath.Join(t.TempDir(), "home"), "VAGRANT_CHECKPOINT_DISABLE=1"), env...)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "validated successfully") {
			t.Fatalf("vagrant validate %v: %v\n%s", env, err, out)
		}
	}
	// A broken setting must fail it, or the test proves nothing.
	cmd := exec.Command("vagrant", "validate")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VAGRANT_HOME="+filepath.Join(t.TempDir(), "home"), "SHOAL_NODES=0")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("vagrant validate accepted SHOAL_NODES=0:\n%s", out)
	}
	// Two sites need clients to put at the edge.
	cmd = exec.Command("vagrant", "validate")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VAGRANT_HOME="+filepath.Join(t.TempDir(), "home"), "SHOAL_NODES=3", "SHOAL_SITES=2")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "SHOAL_SITES=2 needs clients") {
		t.Fatalf("vagrant validate accepted two sites without clients: %v\n%s", err, out)
	}
}
