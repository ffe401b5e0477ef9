package podruntime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

func mode(m int32) *int32 { return &m }

func TestDataVolumeFilesFollowItemsModesAndOptional(t *testing.T) {
	objs := newFakeObjects()
	objs.putConfigMap("cfg", map[string]string{"a": "1", "b": "2"})
	objs.putSecret("s", map[string][]byte{"pass": []byte("hunter2")})
	pod := envPod(api.Container{Name: "app"})
	pod.ObjectMeta.Annotations = map[string]string{"note": `say "hi"`}
	ref := api.LocalObjectReference{Name: "cfg"}
	for _, c := range []struct {
		name string
		v    api.VolumeSource
		want string // path:mode:data, sorted
		err  string
	}{
		{"every key", api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: ref, DefaultMode: mode(0o640)}}, "a:640:1 b:640:2", ""},
		{"items", api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: ref,
			Items: []api.KeyToPath{{Key: "b", Path: "conf/b.txt", Mode: mode(0o600)}}}}, "conf/b.txt:600:2", ""},
		{"missing key", api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: ref,
			Items: []api.KeyToPath{{Key: "z", Path: "z"}}}}, "", `configmap "cfg" has no key "z"`},
		{"missing optional", api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: api.LocalObjectReference{Name: "none"}, Optional: yes()}}, "", ""},
		{"missing", api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "none"}}, "", `secret "none" not found`},
		{"secret", api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "s"}}, "pass:644:hunter2", ""},
		{"downward", api.VolumeSource{DownwardAPI: &api.DownwardAPIVolumeSource{Items: []api.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			{Path: "note", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.annotations"}},
			{Path: "name", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}, Mode: mode(0o400)}}}},
			`labels:644:team="blue" name:400:web note:644:note="say \"hi\""`, ""},
		{"projected", api.VolumeSource{Projected: &api.ProjectedVolumeSource{DefaultMode: mode(0o444), Sources: []api.VolumeProjection{
			{ConfigMap: &api.ConfigMapProjection{LocalObjectReference: ref, Items: []api.KeyToPath{{Key: "a", Path: "cfg/a"}}}},
			{Secret: &api.SecretProjection{LocalObjectReference: api.LocalObjectReference{Name: "s"}}},
			{DownwardAPI: &api.DownwardAPIProjection{Items: []api.DownwardAPIVolumeFile{{Path: "ns", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}},
		}}}, "cfg/a:444:1 ns:444:default pass:444:hunter2", ""},
	} {
		v := api.Volume{Name: "v", VolumeSource: c.v}
		files, err := dataVolumeFiles(context.Background(), newObjectCache(objs, "default"), pod, &v)
		if c.err != "" || err != nil {
			if err == nil || err.Error() != c.err {
				t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			}
			continue
		}
		var got []string
		for p, f := range files {
			got = append(got, p+":"+fmt.Sprintf("%o", f.mode.Perm())+":"+string(f.data))
		}
		sort.Strings(got)
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: files %q, want %q", c.name, strings.Join(got, " "), c.want)
		}
	}
}

// The kubelet's layout: user-visible names are symlinks through ..data to
// one timestamped directory; an update swaps ..data, drops names no longer
// given and the old directory, and an unchanged set writes nothing.
func TestWriteAtomicSwapsTheWholeSetThroughDataLink(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	t0 := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	changed, err := writeAtomic(dir, map[string]volumeFile{"a": {[]byte("1"), 0o644}, "conf/b.txt": {[]byte("2"), 0o600}}, t0)
	if err != nil || !changed {
		t.Fatalf("first write: %v, %v", changed, err)
	}
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			return "<" + err.Error() + ">"
		}
		return string(b)
	}
	if read("a") != "1" || read("conf/b.txt") != "2" {
		t.Fatalf("files a=%q conf/b.txt=%q", read("a"), read("conf/b.txt"))
	}
	if target, err := os.Readlink(filepath.Join(dir, "a")); err != nil || target != "..data/a" {
		t.Errorf("a links to %q (%v), want ..data/a", target, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "conf/b.txt")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode of conf/b.txt: %v, %v", fi, err)
	}
	first, _ := os.Readlink(filepath.Join(dir, dataLink))
	if !strings.HasPrefix(first, "..2026_12_06_20_00_00.") {
		t.Errorf("..data -> %q, want a timestamped directory", first)
	}
	if changed, err := writeAtomic(dir, map[string]volumeFile{"a": {[]byte("1"), 0o644}, "conf/b.txt": {[]byte("2"), 0o600}}, t0.Add(time.Second)); err != nil || changed {
		t.Fatalf("same set again: changed %v, %v", changed, err)
	}
	if changed, err := writeAtomic(dir, map[string]volumeFile{"a": {[]byte("one"), 0o644}}, t0.Add(2*time.Second)); err != nil || !changed {
		t.Fatalf("update: %v, %v", changed, err)
	}
	if read("a") != "one" {
		t.Errorf("a after update: %q", read("a"))
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 3 || names[0] == first || names[1] == first || !strings.Contains(strings.Join(names, " "), "..data a") {
		t.Errorf("after update the volume holds %v, want ..data, a and one new directory", names)
	}
}
