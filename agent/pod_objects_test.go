package agent

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// podObjects, the real ObjectSource, against a one-server agent: a
// ConfigMap and a Secret as the API stores them, nil for what is missing.
func TestPodObjectsReadConfigMapsAndSecretsThroughTheAPI(t *testing.T) {
	base := startAgent(t, "podobjects", "1Gi")
	if code, b := do(t, "POST", base+"/api/v1/namespaces/default/configmaps", "application/yaml", "",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {MODE: fast}\nbinaryData: {blob: AAE=}\n"); code != http.StatusCreated {
		t.Fatalf("create configmap: %d %s", code, b)
	}
	if code, b := do(t, "POST", base+"/api/v1/namespaces/default/secrets", "application/yaml", "",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {pass: hunter2}\n"); code != http.StatusCreated {
		t.Fatalf("create secret: %d %s", code, b)
	}
	a := &Agent{self: nodeMeta{API: strings.TrimPrefix(base, "http://")}, log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	cm, err := podObjects{a}.ConfigMap(ctx, "default", "cfg")
	if err != nil || cm == nil || cm.Data["MODE"] != "fast" || string(cm.BinaryData["blob"]) != "\x00\x01" {
		t.Fatalf("configmap %+v, %v", cm, err)
	}
	s, err := podObjects{a}.Secret(ctx, "default", "s")
	if err != nil || s == nil || string(s.Data["pass"]) != "hunter2" {
		t.Fatalf("secret %+v, %v", s, err)
	}
	if cm, err := (podObjects{a}).ConfigMap(ctx, "default", "none"); cm != nil || err != nil {
		t.Fatalf("missing configmap: %+v, %v; want nil, nil", cm, err)
	}
	if s, err := (podObjects{a}).Secret(ctx, "other", "s"); s != nil || err != nil {
		t.Fatalf("secret of another namespace: %+v, %v; want nil, nil", s, err)
	}
}
