package agent

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// loadTLS builds the API's TLS: the server side from the agent's
// certificate and key, the client side (calls to other agents) trusting
// the CA the operator passed. Every agent of a TLS fleet serves TLS, so a
// CA without a certificate is a mistake, not a mode.
//
// With a CA, Raft uses TLS too, mutually: both ends show a certificate the
// CA signed (so the fleet's certificates need the client key usage as well
// as the server one), because Raft has no other way to tell a peer from an
// intruder. Without a CA (certificates from a public CA) Raft stays plain.
func loadTLS(cfg Config) (server, client, raftTLS *tls.Config, err error) {
	if cfg.TLSCertFile == "" && cfg.TLSKeyFile == "" && cfg.TLSCAFile == "" {
		return nil, nil, nil, nil
	}
	if cfg.TLSCertFile == "" || cfg.TLSKeyFile == "" {
		return nil, nil, nil, errors.New("tls: --tls-cert and --tls-key go together (and --tls-ca names the CA that signed the fleet's certificates)")
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tls: load %s and %s: %w", cfg.TLSCertFile, cfg.TLSKeyFile, err)
	}
	server = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSCAFile != "" {
		pool, err := LoadCAPool(cfg.TLSCAFile)
		if err != nil {
			return nil, nil, nil, err
		}
		client.RootCAs = pool
		raftTLS = &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, ClientCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return server, client, raftTLS, nil
}

// LoadCAPool reads the PEM certificates of a CA file.
func LoadCAPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tls: CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls: CA %s holds no PEM certificate", path)
	}
	return pool, nil
}
