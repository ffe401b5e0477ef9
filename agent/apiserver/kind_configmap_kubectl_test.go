package apiserver

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The machine's kubectl against this package's handler on a one-seat
// state, on loopback: create configmap from literals and a file, get,
// describe, edit, apply, the refusals and delete, as kubectl users know
// them. e2e/configmaps_test.go runs the same through a fleet, with pods.
func TestKubectlServesConfigMapsAgainstTheHandler(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	base, seat := serviceAPI(t, "")
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "+base+
		"}\ncontexts:\n- name: c\n  context: {cluster: c, namespace: default}\ncurrent-context: c\nusers: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(env []string, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, kubectl, args...)
		cmd.Env = append(append(os.Environ(), "KUBECONFIG="+kc, "HOME="+dir), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	expect := func(wantErr bool, want string, args ...string) {
		t.Helper()
		out, err := run(nil, args...)
		if (err != nil) != wantErr || !strings.Contains(out, want) {
			t.Errorf("kubectl %s: %v\n%s\nwant %q", strings.Join(args, " "), err, out, want)
		}
	}
	words := func(args ...string) string {
		out, _ := run(nil, args...)
		return strings.Join(strings.Fields(out), " ")
	}
	write := func(name, content string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}

	props := write("app.properties", "color=blue\nsize=3\n")
	expect(false, "configmap/cfg created", "create", "configmap", "cfg", "--from-literal=MODE=fast", "--from-literal=LEVEL=3", "--from-file="+props)
	cm, err := seat.FSM.ConfigMap("default", "cfg")
	if err != nil || cm.Data["MODE"] != "fast" || cm.Data["app.properties"] != "color=blue\nsize=3\n" || len(cm.Data) != 3 {
		t.Fatalf("stored %+v, %v", cm, err)
	}
	if got := words("get", "cm"); !strings.HasPrefix(got, "NAME DATA AGE cfg 3 ") {
		t.Errorf("get cm: %q", got)
	}
	expect(false, "color=blue", "get", "configmap", "cfg", "-o", "yaml")
	desc, _ := run(nil, "describe", "configmap", "cfg", "--show-events=false")
	for _, want := range []string{"Name:", "cfg", "MODE:", "fast", "app.properties:"} {
		if !strings.Contains(desc, want) {
			t.Errorf("describe lacks %q:\n%s", want, desc)
		}
	}
	if out, err := run([]string{"KUBE_EDITOR=sed -i s/fast/slow/"}, "edit", "configmap", "cfg"); err != nil || !strings.Contains(out, "configmap/cfg edited") {
		t.Errorf("edit: %v\n%s", err, out)
	}
	if cm, _ := seat.FSM.ConfigMap("default", "cfg"); cm == nil || cm.Data["MODE"] != "slow" {
		t.Errorf("after edit: %+v", cm)
	}
	m := write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\ndata: {k: one}\n")
	expect(false, "configmap/applied created", "apply", "-f", m)
	write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\ndata: {k: two}\n")
	expect(false, "configmap/applied configured", "apply", "-f", m)
	expect(false, "configmap/applied unchanged", "apply", "-f", m)
	write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\ndata: {k: three}\n")
	expect(false, "configmap/applied configured (server dry run)", "apply", "--dry-run=server", "-f", m)
	expect(true, "+  k: three", "diff", "-f", m) // diff exits 1 when there is a difference
	if cm, _ := seat.FSM.ConfigMap("default", "applied"); cm == nil || cm.Data["k"] != "two" {
		t.Errorf("a dry run changed the stored ConfigMap: %+v", cm)
	}

	write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: one, b: one}\n")
	expect(false, "configmap/ssa serverside-applied", "apply", "--server-side", "-f", m)
	write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: two}\n")
	expect(false, "configmap/ssa serverside-applied", "apply", "--server-side", "-f", m)
	if cm, _ := seat.FSM.ConfigMap("default", "ssa"); cm == nil || len(cm.Data) != 1 || cm.Data["a"] != "two" || len(cm.ObjectMeta.ManagedFields) == 0 {
		t.Errorf("after server-side apply: %+v", cm)
	}

	write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: {\"a/b\": x}\n")
	expect(true, `The ConfigMap "bad" is invalid`, "apply", "-f", m)
	write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: imm}\nimmutable: true\ndata: {k: one}\n")
	expect(false, "configmap/imm created", "apply", "-f", m)
	write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: imm}\nimmutable: true\ndata: {k: two}\n")
	expect(true, "immutable", "apply", "-f", m)
	expect(true, `configmaps "nope" not found`, "get", "cm", "nope")
	expect(false, `configmap "cfg" deleted`, "delete", "cm", "cfg")
	if _, err := seat.FSM.ConfigMap("default", "cfg"); err == nil {
		t.Error("deleted ConfigMap is still stored")
	}
}
