package podruntime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRegistryHostsPutMirrorsFirstAndHonourInsecure(t *testing.T) {
	g, err := newRegistries(RegistryConfig{
		Mirrors:  map[string][]string{"docker.io": {"http://10.0.0.5:5000", "https://mirror.example/base/"}},
		Insecure: []string{"plain.example:5000", "10.250.0.0/16"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		host string
		want []string // scheme://host path
	}{
		{"docker.io", []string{"http://10.0.0.5:5000 /v2", "https://mirror.example /base/v2", "https://registry-1.docker.io /v2"}},
		{"plain.example:5000", []string{"http://plain.example:5000 /v2"}},
		{"plain.example", []string{"https://plain.example /v2"}},
		{"10.250.3.250:5000", []string{"http://10.250.3.250:5000 /v2"}},
		{"10.251.0.1:5000", []string{"https://10.251.0.1:5000 /v2"}},
	}
	for _, c := range cases {
		hosts, err := g.hosts(nil)(c.host)
		if err != nil {
			t.Fatalf("%s: %v", c.host, err)
		}
		var got []string
		for _, h := range hosts {
			got = append(got, h.Scheme+"://"+h.Host+" "+h.Path)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: hosts %v, want %v", c.host, got, c.want)
		}
	}
}

func TestRegistryConfigRefusesWhatCannotWork(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cfg  RegistryConfig
		want string
	}{
		{RegistryConfig{CAFile: filepath.Join(dir, "missing.pem")}, "registry CA file"},
		{RegistryConfig{CAFile: notPEM}, "no PEM certificate"},
		{RegistryConfig{Mirrors: map[string][]string{"docker.io": {"ftp://x"}}}, "want an http:// or https:// URL"},
		{RegistryConfig{Mirrors: map[string][]string{"https://docker.io": {"http://x"}}}, "want a registry host"},
		{RegistryConfig{Insecure: []string{"http://x:5000"}}, "insecure registry"},
	} {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one saying %q", c.cfg, err, c.want)
		}
	}
}

func TestCredentialsMatchTheRegistryWhateverTheKeySpelling(t *testing.T) {
	creds := credentialsFunc([]RegistryCredential{
		{Registry: "https://index.docker.io/v1/", Username: "hub", Password: "p1"},
		{Registry: "http://10.0.0.5:5000", Username: "lab", Password: "p2"},
	})
	for host, want := range map[string]string{
		"registry-1.docker.io": "hub",
		"10.0.0.5:5000":        "lab",
		"10.0.0.5":             "",
		"other.example":        "",
	} {
		if u, _, _ := creds(host); u != want {
			t.Errorf("%s: user %q, want %q", host, u, want)
		}
	}
}

func TestBackoffForgetPrefixDropsOnlyThatPodsPulls(t *testing.T) {
	b := newBackoff(10*time.Second, time.Minute)
	now := time.Now()
	b.restarted("pull/uid-a/main", now)
	b.restarted("pull/uid-ab/main", now)
	b.forgetPrefix("pull/uid-a/")
	if b.wait("pull/uid-a/main", now) != 0 || b.wait("pull/uid-ab/main", now) == 0 {
		t.Fatal("forgetPrefix must reset the removed pod's pull back-off and no other's")
	}
}
