package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/shoal-dev/shoal/agent"
)

// cliConfig is the CLI's own settings file, ~/.config/shoal/config.yaml
// (or $SHOAL_CONFIG): where the fleet is and how to prove who you are.
// The environment wins over the file, as with kubectl's flags over its
// kubeconfig, so one shell can point somewhere else for a moment.
type cliConfig struct {
	Server               string `json:"server,omitempty"`
	Token                string `json:"token,omitempty"`
	CertificateAuthority string `json:"certificate-authority,omitempty"`
}

func cliConfigPath() string {
	if p := os.Getenv("SHOAL_CONFIG"); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "shoal", "config.yaml")
}

// loadCLIConfig reads the file (a missing one is no error) and lays the
// environment over it: SHOAL_ADDR, SHOAL_TOKEN, SHOAL_CACERT.
func loadCLIConfig() (cliConfig, error) {
	var c cliConfig
	if p := cliConfigPath(); p != "" {
		data, err := os.ReadFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return c, fmt.Errorf("shoal config: %w", err)
		default:
			if err := yaml.UnmarshalStrict(data, &c); err != nil {
				return c, fmt.Errorf("shoal config %s: %w (keys: server, token, certificate-authority)", p, err)
			}
		}
	}
	for env, field := range map[string]*string{"SHOAL_ADDR": &c.Server, "SHOAL_TOKEN": &c.Token, "SHOAL_CACERT": &c.CertificateAuthority} {
		if v := os.Getenv(env); v != "" {
			*field = v
		}
	}
	c.Token = strings.TrimSpace(c.Token)
	return c, nil
}

// httpClient trusts the configured CA, if any, for https:// agents.
func (c cliConfig) httpClient(timeout time.Duration) (*http.Client, error) {
	if c.CertificateAuthority == "" {
		return &http.Client{Timeout: timeout}, nil
	}
	pool, err := agent.LoadCAPool(c.CertificateAuthority)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Timeout: timeout, Transport: tr}, nil
}
