package main

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTLSCertificatesVerifyForServerAndClientUseAtTheirIP(t *testing.T) {
	dir := t.TempDir()
	if out, err := runShoal(t, "tls", "ca", "--dir", dir); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if out, err := runShoal(t, "tls", "cert", "--dir", dir, "--name", "n1", "--ip", "192.168.56.11"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "n1.pem"), filepath.Join(dir, "n1-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	caPEM, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Errorf("usage %v: %v", usage, err)
		}
	}
	if err := leaf.VerifyHostname("192.168.56.11"); err != nil {
		t.Error(err)
	}
	if !leaf.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) {
		t.Errorf("IPs %v", leaf.IPAddresses)
	}
	if info, _ := os.Stat(filepath.Join(dir, "n1-key.pem")); info.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", info.Mode())
	}
	if _, err := runShoal(t, "tls", "ca", "--dir", dir); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second CA over the first: %v", err)
	}
}
