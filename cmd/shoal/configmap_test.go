package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

// shoal apply takes a ConfigMap beside the pods that read it: created,
// then replaced.
func TestApplyCreatesThenReplacesAConfigMap(t *testing.T) {
	addr := startSnapFleet(t, "cmapply")
	f := filepath.Join(t.TempDir(), "cm.yaml")
	for _, c := range []struct{ mode, want string }{{"fast", "configmap/cfg created"}, {"slow", "configmap/cfg configured"}} {
		if err := os.WriteFile(f, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {MODE: "+c.mode+"}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := runShoal(t, "--addr", addr, "apply", "-f", f); err != nil || !strings.Contains(out, c.want) {
			t.Fatalf("apply: %v %q, want %q", err, out, c.want)
		}
	}
	var cm api.ConfigMap
	if err := newClient(addr).getJSON(context.Background(), "/api/v1/namespaces/default/configmaps/cfg", &cm); err != nil || cm.Data["MODE"] != "slow" {
		t.Fatalf("stored %+v, %v", cm.Data, err)
	}
}
