package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent"
	"github.com/shoal-dev/shoal/api"
)

func snapFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startFleet runs a one-server fleet in-process on loopback (no
// containerd: pods are placed but not run) and returns its API address.
func startSnapFleet(t *testing.T, name string) string {
	t.Helper()
	cfg := agent.DefaultConfig()
	cfg.Name, cfg.DataDir, cfg.BindAddr = name, t.TempDir(), "127.0.0.1"
	cfg.APIPort, cfg.RaftPort, cfg.GossipPort = snapFreePort(t), snapFreePort(t), snapFreePort(t)
	cfg.BootstrapExpect = 1
	cfg.ContainerdAddress = filepath.Join(cfg.DataDir, "none.sock")
	cfg.NetnsPrefix = "shoal-snaptest-"
	cfg.Memory, cfg.CPU = "4Gi", "2"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- agent.Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	t.Cleanup(func() { cancel(); <-done })
	addr := fmt.Sprintf("http://127.0.0.1:%d", cfg.APIPort)
	c := newClient(addr)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n api.Node
		if c.getJSON(context.Background(), "/api/v1/nodes/"+name, &n) == nil {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatal("fleet did not come up")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func runShoal(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&out)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestSnapshotSavedFromOneFleetRestoresItsPodsIntoAnother(t *testing.T) {
	t.Setenv("SHOAL_CONFIG", "/dev/null")
	t.Setenv("SHOAL_TOKEN", "")
	old := startSnapFleet(t, "old")
	manifest := filepath.Join(t.TempDir(), "pod.yaml")
	writeTestFile(t, manifest, "apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web}}\nspec:\n  containers:\n  - {name: app, image: shoal.local/busybox:1}\n")
	if out, err := runShoal(t, "--addr", old, "apply", "-f", manifest); err != nil {
		t.Fatalf("apply: %v %s", err, out)
	}
	backup := filepath.Join(t.TempDir(), "state.json")
	out, err := runShoal(t, "--addr", old, "snapshot", "save", backup)
	if err != nil || !strings.Contains(out, "1 pods") {
		t.Fatalf("save: %v %s", err, out)
	}

	fresh := startSnapFleet(t, "fresh")
	if out, err := runShoal(t, "--addr", fresh, "snapshot", "restore", backup); err != nil || !strings.Contains(out, "pod/web created") {
		t.Fatalf("restore: %v %s", err, out)
	}
	var p api.Pod
	if err := newClient(fresh).getJSON(context.Background(), "/api/v1/namespaces/default/pods/web", &p); err != nil {
		t.Fatal(err)
	}
	if p.ObjectMeta.Labels["app"] != "web" {
		t.Fatalf("restored pod labels %v", p.ObjectMeta.Labels)
	}
	if _, err := runShoal(t, "--addr", fresh, "snapshot", "restore", manifest); err == nil || !strings.Contains(err.Error(), "not a shoal snapshot") {
		t.Fatalf("restoring a manifest: %v", err)
	}
}

func TestRestoreLeavesControllerPodsToTheirController(t *testing.T) {
	yes := true
	s := &stateSnapshot{
		Nodes: map[string]*api.Node{},
		Pods: map[string]*api.Pod{
			"default/bare":    {ObjectMeta: api.ObjectMeta{Name: "bare", Namespace: "default", UID: "u1", ResourceVersion: "9"}, Spec: api.PodSpec{NodeName: "n1"}, Status: api.PodStatus{Phase: "Running"}},
			"default/rc-abcd": {ObjectMeta: api.ObjectMeta{Name: "rc-abcd", Namespace: "default", OwnerReferences: []api.OwnerReference{{Kind: "ReplicationController", Name: "rc", Controller: &yes}}}},
		},
		RCs:        map[string]*api.ReplicationController{"default/rc": {ObjectMeta: api.ObjectMeta{Name: "rc", Namespace: "default", UID: "u2"}}},
		ConfigMaps: map[string]*api.ConfigMap{"default/cfg": {ObjectMeta: api.ObjectMeta{Name: "cfg", Namespace: "default", UID: "u3", ResourceVersion: "4"}}},
	}
	objs := s.restorable()
	var names []string
	for _, o := range objs {
		names = append(names, api.TypeMetaOf(o).Kind+"/"+api.MetaOf(o).Name)
	}
	if strings.Join(names, ",") != "ConfigMap/cfg,ReplicationController/rc,Pod/bare" {
		t.Fatalf("restorable = %v", names)
	}
	if m := api.MetaOf(objs[0]); m.UID != "" || m.ResourceVersion != "" {
		t.Fatalf("configmap keeps what the old fleet decided: %+v", m)
	}
	p := objs[2].(*api.Pod)
	if p.ObjectMeta.UID != "" || p.ObjectMeta.ResourceVersion != "" || p.Spec.NodeName != "" || p.Status.Phase != "" {
		t.Fatalf("pod keeps what the old fleet decided: %+v", p)
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
