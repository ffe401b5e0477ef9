package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
)

func newTLSCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tls",
		Short: "Make a CA and agent certificates for TLS on the API and Raft",
		Long: `Make the fleet's CA once (shoal tls ca), then one certificate per agent with the
addresses other agents and the CLI reach it at (shoal tls cert). Give every agent
--tls-cert, --tls-key and --tls-ca; keep ca-key.pem off the agents.`,
	}
	var dir string
	ca := &cobra.Command{
		Use:   "ca",
		Short: "Write a new CA (ca.pem, ca-key.pem) into --dir",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := makeCA(dir); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %s\n", filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem"))
			return nil
		},
	}
	ca.Flags().StringVar(&dir, "dir", ".", "directory for ca.pem and ca-key.pem")
	var name string
	var ips []string
	cert := &cobra.Command{
		Use:   "cert --name NODE --ip IP[,IP]",
		Short: "Write NODE.pem and NODE-key.pem, signed by the CA in --dir, for the given IPs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := makeCert(dir, name, ips); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %s\n", filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem"))
			return nil
		},
	}
	cert.Flags().StringVar(&dir, "dir", ".", "directory holding the CA; the certificate is written there too")
	cert.Flags().StringVar(&name, "name", "", "node name (file name and certificate subject)")
	cert.Flags().StringSliceVar(&ips, "ip", nil, "IP addresses the agent is reached at (its advertise address; 127.0.0.1 is always added)")
	cmd.AddCommand(ca, cert)
	return cmd
}

func makeCA(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "ca-key.pem")); err == nil {
		return fmt.Errorf("tls ca: %s already exists; a new CA would orphan every certificate it signed", filepath.Join(dir, "ca-key.pem"))
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("tls ca: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "shoal fleet CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("tls ca: %w", err)
	}
	return writePair(dir, "ca", der, key)
}

// kubernetesServiceIP is the `kubernetes` Service's ClusterIP in the
// default service range (agent/controllers.APIServiceIP).
const kubernetesServiceIP = "10.96.0.1"

func makeCert(dir, name string, ips []string) error {
	if name == "" {
		return errors.New("tls cert: --name is required")
	}
	caCert, caKey, err := loadCA(dir)
	if err != nil {
		return err
	}
	// Pods reach every agent through the `kubernetes` Service: its address
	// in the default service range and its names are in every agent's
	// certificate, as client-go's in-cluster config checks them (another
	// --service-cidr's first address goes in with --ip).
	addrs := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(kubernetesServiceIP)}
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return fmt.Errorf("tls cert: --ip %q is not an IP address", s)
		}
		addrs = append(addrs, ip)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("tls cert: %w", err)
	}
	// Server and client use: the same certificate serves the API and
	// dials Raft peers, which check it (mutual TLS).
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(5, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: addrs, DNSNames: []string{name, "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("tls cert: %w", err)
	}
	return writePair(dir, name, der, key)
}

func loadCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, nil, fmt.Errorf("tls cert: the CA (make it with shoal tls ca): %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "ca-key.pem"))
	if err != nil {
		return nil, nil, fmt.Errorf("tls cert: the CA key: %w", err)
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, fmt.Errorf("tls cert: %s holds no PEM CA", dir)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("tls cert: CA: %w", err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("tls cert: CA key: %w", err)
	}
	return cert, key, nil
}

func writePair(dir, name string, der []byte, key *ecdsa.PrivateKey) error {
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+"-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return n
}
