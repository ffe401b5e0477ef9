package podruntime

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/containerd/containerd/remotes/docker"

	"github.com/shoal-dev/shoal/api"
)

// RegistryConfig says how this node reaches image registries.
type RegistryConfig struct {
	// Mirrors maps a registry host as image references name it
	// ("docker.io", "registry.example:5000") to mirror endpoints, full URLs
	// such as "http://10.0.0.5:5000" or "https://mirror.example/v2-prefix".
	// Mirrors are tried in order, then the registry itself.
	Mirrors map[string][]string
	// Insecure lists registries reached over plain HTTP instead of HTTPS:
	// a host or host:port as references name them, or a CIDR that matches
	// registries named by IP address (as Docker's insecure-registries).
	Insecure []string
	// CAFile holds extra PEM certificates trusted, besides the system's, for
	// every registry and mirror reached over HTTPS.
	CAFile string
}

// Validate names every setting that cannot work; it reads CAFile.
func (c RegistryConfig) Validate() error {
	_, err := c.tlsConfig()
	if err != nil {
		return err
	}
	for reg, list := range c.Mirrors {
		if reg == "" || strings.Contains(reg, "/") {
			return fmt.Errorf("registry mirror for %q: want a registry host such as docker.io or registry.example:5000", reg)
		}
		for _, m := range list {
			if _, err := parseMirror(m); err != nil {
				return fmt.Errorf("registry mirror for %s: %w", reg, err)
			}
		}
	}
	for _, h := range c.Insecure {
		if _, err := netip.ParsePrefix(h); err == nil {
			continue
		}
		if h == "" || strings.Contains(h, "/") {
			return fmt.Errorf("insecure registry %q: want a host, a host:port as image references name it, or a CIDR", h)
		}
	}
	return nil
}

func parseMirror(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("mirror %q: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mirror %q: want an http:// or https:// URL with a host", s)
	}
	return u, nil
}

func (c RegistryConfig) tlsConfig() (*tls.Config, error) {
	if c.CAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("registry CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("registry CA file %s: no PEM certificate in it", c.CAFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// RegistryCredential is one login a pod's imagePullSecrets grant.
type RegistryCredential struct {
	// Registry is the key of the docker config's "auths": a host, a
	// host:port, or a URL such as https://index.docker.io/v1/.
	Registry string
	Username string
	Password string
}

// CredentialSource answers the registry logins a pod's pulls may use (its
// imagePullSecrets). It is asked once per pull, so a changed Secret counts
// at the next pull.
type CredentialSource interface {
	PullCredentials(ctx context.Context, pod *api.Pod) ([]RegistryCredential, error)
}

// registryHost reduces a docker config key to the host[:port] containerd's
// authorizer asks about; Docker Hub's many names all become docker.io.
func registryHost(key string) string {
	h := key
	if i := strings.Index(h, "://"); i >= 0 {
		h = h[i+3:]
	}
	if i := strings.Index(h, "/"); i >= 0 {
		h = h[:i]
	}
	switch h {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return "docker.io"
	}
	return h
}

// credentialsFunc is containerd's callback for the host it is talking to.
func credentialsFunc(creds []RegistryCredential) func(host string) (string, string, error) {
	return func(host string) (string, string, error) {
		want := registryHost(host)
		for _, c := range creds {
			if registryHost(c.Registry) == want {
				return c.Username, c.Password, nil
			}
		}
		return "", "", nil
	}
}

// registries turns a RegistryConfig into containerd's per-host endpoint
// list; tlsCfg was read from CAFile once, when the runtime started.
type registries struct {
	cfg    RegistryConfig
	tlsCfg *tls.Config
}

func newRegistries(cfg RegistryConfig) (*registries, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	return &registries{cfg: cfg, tlsCfg: t}, nil
}

func (g *registries) insecure(host string) bool {
	ip, ipErr := netip.ParseAddr(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		ip, ipErr = netip.ParseAddr(h)
	}
	for _, h := range g.cfg.Insecure {
		if h == host {
			return true
		}
		if p, err := netip.ParsePrefix(h); err == nil && ipErr == nil && p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

func (g *registries) client() *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: time.Minute,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
		TLSClientConfig:       g.tlsCfg,
	}
	return &http.Client{Transport: tr}
}

// hosts is the docker.RegistryHosts of one pull: the mirrors of the
// registry first, then the registry itself, all with the pull's logins.
func (g *registries) hosts(creds []RegistryCredential) docker.RegistryHosts {
	return func(host string) ([]docker.RegistryHost, error) {
		client := g.client()
		auth := docker.NewDockerAuthorizer(docker.WithAuthClient(client), docker.WithAuthCreds(credentialsFunc(creds)))
		var out []docker.RegistryHost
		for _, m := range g.cfg.Mirrors[host] {
			u, err := parseMirror(m)
			if err != nil {
				return nil, err
			}
			p := strings.TrimSuffix(u.Path, "/")
			if !strings.HasSuffix(p, "/v2") {
				p += "/v2"
			}
			out = append(out, docker.RegistryHost{
				Client: client, Authorizer: auth, Host: u.Host, Scheme: u.Scheme, Path: p,
				Capabilities: docker.HostCapabilityPull | docker.HostCapabilityResolve,
			})
		}
		upstream := host
		if host == "docker.io" {
			upstream = "registry-1.docker.io"
		}
		scheme := "https"
		if g.insecure(host) {
			scheme = "http"
		}
		out = append(out, docker.RegistryHost{
			Client: client, Authorizer: auth, Host: upstream, Scheme: scheme, Path: "/v2",
			Capabilities: docker.HostCapabilityPull | docker.HostCapabilityResolve,
		})
		return out, nil
	}
}
