package main

import (
	"crypto/tls"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/agent"
)

// The Vagrant provisioning script, run into a scratch root (no apt, no
// systemd), must write an agent config that shoal agent loads as is, the
// unit, the token, and a CLI config that points at the agent with the token.
func TestVagrantProvisioningWritesConfigsTheAgentAndCLILoad(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	src, root := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(src, "bin", "shoal"), "#!/bin/sh\nexit 0\n")
	if err := os.Chmod(filepath.Join(src, "bin", "shoal"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(src, "deploy"), os.DirFS("../../deploy")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "../../deploy/vagrant/provision.sh")
	cmd.Env = append(os.Environ(), "SHOAL_ROOT="+root, "SHOAL_SRC="+src, "SHOAL_NAME=n2", "SHOAL_IP=192.168.56.12",
		"SHOAL_SERVER=1", "SHOAL_BOOTSTRAP_EXPECT=3", "SHOAL_JOIN=192.168.56.11:7946,192.168.56.12:7946,192.168.56.13:7946",
		"SHOAL_ENCRYPT=aBLfxFg05LVDPrWn+9kBqX+k0UU0pp9a0nGZSYIVyBc=", "SHOAL_TOKEN=tok-123",
		"SHOAL_ZONE=edge-1", "SHOAL_SEAT_ZONE=central", "SHOAL_GOSSIP_PROFILE=wan")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("provision.sh: %v\n%s", err, out)
	}
	for _, f := range []string{"usr/local/bin/shoal", "etc/systemd/system/shoal-agent.service", "etc/sysctl.d/90-shoal.conf"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
	fs := newAgentCmd().Flags()
	if err := agent.ApplyConfigFile(filepath.Join(root, "etc/shoal/agent.yaml"), fs); err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string]string{
		"name": "n2", "bind-addr": "192.168.56.12", "advertise-addr": "192.168.56.12", "bootstrap-expect": "3",
		"join": "[192.168.56.11:7946,192.168.56.12:7946,192.168.56.13:7946]", "token-file": "/etc/shoal/token",
		"encrypt": "aBLfxFg05LVDPrWn+9kBqX+k0UU0pp9a0nGZSYIVyBc=",
		"zone":    "edge-1", "seat-zone": "central", "gossip-profile": "wan",
	} {
		if got := fs.Lookup(flag).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", flag, got, want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "etc/shoal/token")); err != nil || strings.TrimSpace(string(b)) != "tok-123" {
		t.Errorf("token file: %q %v", b, err)
	}
	t.Setenv("SHOAL_CONFIG", filepath.Join(root, "root/.config/shoal/config.yaml"))
	t.Setenv("SHOAL_ADDR", "")
	t.Setenv("SHOAL_TOKEN", "")
	t.Setenv("SHOAL_CACERT", "")
	cc, err := loadCLIConfig()
	if err != nil || cc.Server != "http://192.168.56.12:7080" || cc.Token != "tok-123" {
		t.Fatalf("CLI config %+v, %v", cc, err)
	}
}

func TestVagrantProvisioningWithTLSPointsAgentAndCLIAtTheCA(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	src, root, pki := t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(src, "bin", "shoal"), "#!/bin/sh\nexit 0\n")
	if err := os.Chmod(filepath.Join(src, "bin", "shoal"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(src, "deploy"), os.DirFS("../../deploy")); err != nil {
		t.Fatal(err)
	}
	if err := makeCA(pki); err != nil {
		t.Fatal(err)
	}
	if err := makeCert(pki, "n1", []string{"192.168.56.11"}); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(pki, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cmd := exec.Command("sh", "../../deploy/vagrant/provision.sh")
	cmd.Env = append(os.Environ(), "SHOAL_ROOT="+root, "SHOAL_SRC="+src, "SHOAL_NAME=n1", "SHOAL_IP=192.168.56.11",
		"SHOAL_TLS_CA="+read("ca.pem"), "SHOAL_TLS_CERT="+read("n1.pem"), "SHOAL_TLS_KEY="+read("n1-key.pem"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("provision.sh: %v\n%s", err, out)
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(root, "etc/shoal/tls/agent.pem"), filepath.Join(root, "etc/shoal/tls/agent-key.pem")); err != nil {
		t.Fatalf("installed key pair: %v", err)
	}
	fs := newAgentCmd().Flags()
	if err := agent.ApplyConfigFile(filepath.Join(root, "etc/shoal/agent.yaml"), fs); err != nil {
		t.Fatal(err)
	}
	if got := fs.Lookup("tls-ca").Value.String(); got != "/etc/shoal/tls/ca.pem" {
		t.Errorf("tls-ca = %q", got)
	}
	t.Setenv("SHOAL_CONFIG", filepath.Join(root, "root/.config/shoal/config.yaml"))
	t.Setenv("SHOAL_ADDR", "")
	t.Setenv("SHOAL_TOKEN", "")
	t.Setenv("SHOAL_CACERT", "")
	cc, err := loadCLIConfig()
	if err != nil || cc.Server != "https://192.168.56.11:7080" || cc.CertificateAuthority != "/root/.config/shoal/ca.pem" {
		t.Fatalf("CLI config %+v, %v", cc, err)
	}
	if _, err := agent.LoadCAPool(filepath.Join(root, "root/.config/shoal/ca.pem")); err != nil {
		t.Fatal(err)
	}
}
