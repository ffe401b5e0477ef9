package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// runAgent starts an agent on loopback with mod applied to its config and
// stops it when the test ends. It does not wait for anything.
func runAgent(t *testing.T, name string, mod func(*Config)) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Name = name
	cfg.DataDir = t.TempDir()
	cfg.BindAddr = "127.0.0.1"
	cfg.APIPort, cfg.RaftPort, cfg.GossipPort = freePort(t), freePort(t), freePort(t)
	cfg.ContainerdAddress = cfg.DataDir + "/no-containerd.sock"
	cfg.NetnsPrefix = "shoal-sectest-" + name + "-"
	cfg.Memory, cfg.CPU = "2Gi", "2"
	mod(&cfg)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent %s stopped with %v", name, err)
		}
	})
	return cfg
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// call sends a request with an optional bearer token and returns the code
// and the Status (when the answer is one).
func call(c *http.Client, method, url, token, body string) (int, api.Status, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, api.Status{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, api.Status{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var st api.Status
	_ = json.Unmarshal(b, &st)
	return resp.StatusCode, st, nil
}

func TestAPIWithATokenRefusesRequestsWithoutItAndForwardsWithIt(t *testing.T) {
	const token = "s3cret-token"
	tokenFile := writeFile(t, "token", token+"\n")
	server := runAgent(t, "tok-server", func(c *Config) { c.BootstrapExpect = 1; c.TokenFile = tokenFile })
	// A client agent holds no state: every read it answers went to the
	// server through forwarding, which must carry the token too.
	client := runAgent(t, "tok-client", func(c *Config) {
		c.TokenFile = tokenFile
		c.Join = []string{hostPort("127.0.0.1", server.GossipPort)}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", client.APIPort)
	c := http.DefaultClient

	eventually(t, "both nodes listed through the client", func() bool {
		var l api.NodeList
		req, _ := http.NewRequest("GET", base+"/api/v1/nodes", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return json.NewDecoder(resp.Body).Decode(&l) == nil && len(l.Items) == 2
	})

	for _, tc := range []struct{ name, token, msg string }{
		{"no token", "", "requires a bearer token"},
		{"wrong token", "guess", "not this fleet's token"},
	} {
		for _, url := range []string{base + "/api/v1/pods", base + "/metrics", fmt.Sprintf("http://127.0.0.1:%d/api/v1/nodes", server.APIPort)} {
			code, st, err := call(c, "GET", url, tc.token, "")
			if err != nil {
				t.Fatal(err)
			}
			if code != http.StatusUnauthorized || st.Kind != "Status" || st.Reason != "Unauthorized" || !strings.Contains(st.Message, tc.msg) {
				t.Errorf("%s: GET %s: HTTP %d %+v", tc.name, url, code, st)
			}
		}
	}
	code, st, err := call(c, "POST", base+"/api/v1/namespaces/default/pods", "", fmt.Sprintf(podYAML, "web", "1Gi"))
	if err != nil || code != http.StatusUnauthorized {
		t.Fatalf("write without token: HTTP %d %+v %v", code, st, err)
	}
	code, st, err = call(c, "POST", base+"/api/v1/namespaces/default/pods", token, fmt.Sprintf(podYAML, "web", "1Gi"))
	if err != nil || code != http.StatusCreated {
		t.Fatalf("write with token through the client: HTTP %d %+v %v", code, st, err)
	}
	if code, _, err := call(c, "GET", base+"/healthz", "", ""); err != nil || code != 200 {
		t.Fatalf("healthz must stay open for supervisors: HTTP %d %v", code, err)
	}
}

func TestEmptyTokenFileStopsTheAgent(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Name = "empty-token"
	cfg.DataDir = t.TempDir()
	cfg.BindAddr = "127.0.0.1"
	cfg.APIPort, cfg.RaftPort, cfg.GossipPort = freePort(t), freePort(t), freePort(t)
	cfg.TokenFile = writeFile(t, "token", "  \n")
	err := Run(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Fatalf("err = %v", err)
	}
}

func gossipKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestAgentWithoutTheGossipKeyCannotJoin(t *testing.T) {
	key := gossipKey(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func(name, key string) (*membership, Config) {
		cfg := DefaultConfig()
		cfg.Name, cfg.BindAddr, cfg.GossipPort, cfg.Encrypt = name, "127.0.0.1", freePort(t), key
		m, err := newMembership(cfg, nodeMeta{V: 1, API: "127.0.0.1:1"}, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.leave(time.Second) })
		return m, cfg
	}
	a, acfg := start("keyed-a", key)
	seed := []string{hostPort("127.0.0.1", acfg.GossipPort)}

	for _, tc := range []struct{ name, key string }{{"no key", ""}, {"other key", gossipKey(t)}} {
		m, _ := start("intruder-"+strings.ReplaceAll(tc.name, " ", "-"), tc.key)
		if err := m.join(seed); err == nil {
			t.Errorf("%s: join succeeded", tc.name)
		} else if !gossipKeyMismatch(err) {
			t.Errorf("%s: refusal not recognised as a key mismatch, so not logged loudly: %v", tc.name, err)
		}
		if n := a.list.NumMembers(); n != 1 {
			t.Errorf("%s: the keyed agent sees %d members", tc.name, n)
		}
		if n := m.list.NumMembers(); n != 1 {
			t.Errorf("%s: the intruder sees %d members", tc.name, n)
		}
	}

	b, _ := start("keyed-b", key)
	if err := b.join(seed); err != nil {
		t.Fatalf("agent with the key: %v", err)
	}
	eventually(t, "both keyed agents see each other", func() bool {
		return a.list.NumMembers() == 2 && b.list.NumMembers() == 2
	})
}

func TestBadGossipKeyIsRefusedWithHowToMakeOne(t *testing.T) {
	for _, key := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		cfg := DefaultConfig()
		cfg.Name, cfg.BindAddr, cfg.GossipPort, cfg.Encrypt = "bad-key", "127.0.0.1", freePort(t), key
		_, err := newMembership(cfg, nodeMeta{V: 1}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil || !strings.Contains(err.Error(), "shoal keygen") {
			t.Errorf("key %q: err = %v", key, err)
		}
	}
}

// testCA writes a CA and a certificate for 127.0.0.1 signed by it.
func testCA(t *testing.T) (caFile, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shoal test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "agent"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("agent.pem", "CERTIFICATE", der), write("agent-key.pem", "EC PRIVATE KEY", keyDER)
}

func TestTLSFleetServesTheAPIOverTLSAndForwardsOverTLS(t *testing.T) {
	caFile, certFile, keyFile := testCA(t)
	tlsOn := func(c *Config) { c.TLSCAFile, c.TLSCertFile, c.TLSKeyFile = caFile, certFile, keyFile }
	// Two servers: Raft itself runs between them, over mutual TLS.
	server := runAgent(t, "tls-server", func(c *Config) { tlsOn(c); c.BootstrapExpect = 2 })
	join := []string{hostPort("127.0.0.1", server.GossipPort)}
	server2 := runAgent(t, "tls-server2", func(c *Config) { tlsOn(c); c.BootstrapExpect = 2; c.Join = join })
	client := runAgent(t, "tls-client", func(c *Config) { tlsOn(c); c.Join = join })

	pool, err := LoadCAPool(caFile)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := fmt.Sprintf("https://127.0.0.1:%d", client.APIPort)
	eventually(t, "a pod created through the client agent over TLS", func() bool {
		code, _, err := call(hc, "POST", base+"/api/v1/namespaces/default/pods", "", fmt.Sprintf(podYAML, "web", "1Gi"))
		return err == nil && (code == http.StatusCreated || code == http.StatusConflict)
	})
	if code, _, err := call(hc, "GET", base+"/api/v1/namespaces/default/pods/web", "", ""); err != nil || code != 200 {
		t.Fatalf("read through the client: HTTP %d %v", code, err)
	}
	eventually(t, "the pod replicated to both servers over Raft's TLS", func() bool {
		for _, s := range []Config{server, server2} {
			code, _, err := call(hc, "GET", fmt.Sprintf("https://127.0.0.1:%d/api/v1/namespaces/default/pods/web", s.APIPort), "", "")
			if err != nil || code != 200 {
				return false
			}
		}
		return true
	})
	if _, _, err := call(http.DefaultClient, "GET", strings.Replace(base, "https", "http", 1)+"/healthz", "", ""); err == nil {
		// Plain HTTP against a TLS listener gets a 400 from net/http,
		// never an answer from the API.
		code, _, _ := call(http.DefaultClient, "GET", strings.Replace(base, "https", "http", 1)+"/api/v1/pods", "", "")
		if code == 200 {
			t.Fatal("the API answered plain HTTP")
		}
	}
	if _, _, err := call(&http.Client{}, "GET", base+"/healthz", "", ""); err == nil {
		t.Fatal("a client that does not trust the CA was answered")
	}
}

func TestTLSNeedsCertificateAndKeyTogether(t *testing.T) {
	caFile, certFile, _ := testCA(t)
	_, _, _, err := loadTLS(Config{TLSCAFile: caFile, TLSCertFile: certFile})
	if err == nil || !strings.Contains(err.Error(), "go together") {
		t.Fatalf("err = %v", err)
	}
}
