package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// vagrant validate (Debian's vagrant package) reads the Vagrantfile as
// vagrant up would, for the default fleet and a five-VM TLS one. It runs
// on a copy, because the Vagrantfile makes its secrets next to itself.
func TestVagrantfileValidates(t *testing.T) {
	vagrant, err := exec.LookPath("vagrant")
	if err != nil {
		t.Skip("vagrant not installed (apt-get install vagrant)")
	}
	root := t.TempDir()
	dir := filepath.Join(root, "deploy", "vagrant")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"Vagrantfile", "provision.sh"} {
		b, err := os.ReadFile(filepath.Join("../../deploy/vagrant", f))
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
	for _, env := range [][]string{nil, {"SHOAL_NODES=5", "SHOAL_TLS=1"}} {
		cmd := exec.Command(vagrant, "validate", "--ignore-provider")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append(env, "VAGRANT_HOME="+filepath.Join(root, "home"), "VAGRANT_CHECKPOINT_DISABLE=1")...)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Vagrantfile validated successfully") {
			t.Fatalf("vagrant validate %v: %v\n%s", env, err, out)
		}
	}
}
