package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLISendsTheTokenFromTheConfigFileAndTheEnvironmentWins(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("server: "+srv.URL+"\ntoken: from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SHOAL_CONFIG", path)
	t.Setenv("SHOAL_ADDR", "")
	t.Setenv("SHOAL_TOKEN", "")
	t.Setenv("SHOAL_CACERT", "")
	var out map[string]any
	if err := newClient("").getJSON(context.Background(), "/api/v1/pods", &out); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SHOAL_TOKEN", "from-env")
	if err := newClient("").getJSON(context.Background(), "/api/v1/pods", &out); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "Bearer from-file,Bearer from-env" {
		t.Fatalf("Authorization headers sent: %q", got)
	}
}

func TestCLIConfigWithAnUnknownKeyIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("tokn: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SHOAL_CONFIG", path)
	err := newClient("http://127.0.0.1:1").getJSON(context.Background(), "/", nil)
	if err == nil || !strings.Contains(err.Error(), "tokn") {
		t.Fatalf("err = %v", err)
	}
}
