package main

import (
	"bytes"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestKubeconfigPointsTheCurrentContextAtTheAgent(t *testing.T) {
	tests := []struct {
		name, server, token, ca string
		wantServer              string
		wantInsecure            bool
	}{
		{"plain address", "10.0.0.5:7080", "", "", "http://10.0.0.5:7080", false},
		{"https with a token and no CA", "https://a.example:7080/", "s3cret", "", "https://a.example:7080", true},
		{"https with a CA", "https://a.example:7080", "s3cret", "/etc/shoal/ca.pem", "https://a.example:7080", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := writeKubeconfig(&out, "shoal", kubeTarget{server: tt.server, token: tt.token, caFile: tt.ca, namespace: "team"}); err != nil {
				t.Fatal(err)
			}
			var cfg kubeconfig
			if err := yaml.UnmarshalStrict(out.Bytes(), &cfg); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if cfg.Kind != "Config" || cfg.CurrentContext != "shoal" || len(cfg.Contexts) != 1 || len(cfg.Clusters) != 1 || len(cfg.Users) != 1 {
				t.Fatalf("config = %+v", cfg)
			}
			c, ctx, u := cfg.Clusters[0], cfg.Contexts[0], cfg.Users[0]
			if c.Cluster.Server != tt.wantServer || c.Cluster.InsecureSkipTLSVerify != tt.wantInsecure || c.Cluster.CertificateAuthority != tt.ca {
				t.Errorf("cluster = %+v", c)
			}
			if ctx.Context.Cluster != c.Name || ctx.Context.User != u.Name || ctx.Context.Namespace != "team" {
				t.Errorf("context = %+v", ctx)
			}
			if u.User.Token != tt.token {
				t.Errorf("token = %q, want %q", u.User.Token, tt.token)
			}
		})
	}
}
