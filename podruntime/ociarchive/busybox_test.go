package ociarchive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func readTar(t *testing.T, r io.Reader) (map[string][]byte, map[string]*tar.Header) {
	t.Helper()
	files := map[string][]byte{}
	hdrs := map[string]*tar.Header{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, hdrs
		}
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s: %v", h.Name, err)
		}
		files[h.Name] = b
		hdrs[h.Name] = h
	}
}

func blob(t *testing.T, files map[string][]byte, d digest.Digest) []byte {
	t.Helper()
	b, ok := files["blobs/sha256/"+d.Encoded()]
	if !ok {
		t.Fatalf("blob %s missing", d)
	}
	if digest.FromBytes(b) != d {
		t.Fatalf("blob %s has digest %s", d, digest.FromBytes(b))
	}
	return b
}

func TestBuildBusyboxWritesConsistentOCILayoutWithAppletLinks(t *testing.T) {
	// Any executable stands in for busybox: the archive copies bytes and
	// falls back to the fixed applet list when it cannot list applets.
	fake := filepath.Join(t.TempDir(), "busybox")
	if err := os.WriteFile(fake, []byte("#!/bin/false\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	ref := "docker.io/library/busybox:test"
	if err := BuildBusybox(&buf, ref, fake); err != nil {
		t.Fatalf("BuildBusybox: %v", err)
	}
	files, _ := readTar(t, bytes.NewReader(buf.Bytes()))
	if _, ok := files["oci-layout"]; !ok {
		t.Fatal("oci-layout missing")
	}
	var idx ocispec.Index
	if err := json.Unmarshal(files["index.json"], &idx); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	if len(idx.Manifests) != 1 {
		t.Fatalf("want 1 manifest, got %d", len(idx.Manifests))
	}
	md := idx.Manifests[0]
	if got := md.Annotations["io.containerd.image.name"]; got != ref {
		t.Errorf("io.containerd.image.name = %q, want %q", got, ref)
	}
	if got := md.Annotations[ocispec.AnnotationRefName]; got != "test" {
		t.Errorf("ref.name = %q, want tag %q", got, "test")
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(blob(t, files, md.Digest), &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(blob(t, files, m.Config.Digest), &cfg); err != nil {
		t.Fatalf("config: %v", err)
	}
	if len(cfg.Config.Entrypoint) != 0 || len(cfg.Config.Cmd) != 1 || cfg.Config.Cmd[0] != "sh" {
		t.Errorf("entrypoint %v cmd %v, want none and [sh]", cfg.Config.Entrypoint, cfg.Config.Cmd)
	}
	if len(m.Layers) != 1 {
		t.Fatalf("want 1 layer, got %d", len(m.Layers))
	}
	zr, err := gzip.NewReader(bytes.NewReader(blob(t, files, m.Layers[0].Digest)))
	if err != nil {
		t.Fatalf("layer gzip: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if digest.FromBytes(raw) != cfg.RootFS.DiffIDs[0] {
		t.Errorf("diff id %s does not match layer content %s", cfg.RootFS.DiffIDs[0], digest.FromBytes(raw))
	}
	rootfs, hdrs := readTar(t, bytes.NewReader(raw))
	if string(rootfs["bin/busybox"]) != "#!/bin/false\n" {
		t.Errorf("bin/busybox does not hold the given binary")
	}
	for _, a := range []string{"sh", "httpd", "wget", "nc", "hostname", "sleep"} {
		h, ok := hdrs["bin/"+a]
		if !ok || h.Typeflag != tar.TypeSymlink || h.Linkname != "busybox" {
			t.Errorf("bin/%s is not a symlink to busybox", a)
		}
	}
	for _, p := range []string{"tmp/", "www/", "etc/passwd", "etc/group"} {
		if _, ok := hdrs[p]; !ok {
			t.Errorf("%s missing from rootfs", p)
		}
	}
	if hdrs["tmp/"].Mode != 0o1777 {
		t.Errorf("tmp mode %o, want 1777", hdrs["tmp/"].Mode)
	}

	var again bytes.Buffer
	if err := BuildBusybox(&again, ref, fake); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two builds of the same binary differ; image IDs would not be stable")
	}
}

func TestBuildBusyboxUsesAppletsTheBinaryLists(t *testing.T) {
	bb, err := os.Stat("/bin/busybox")
	if err != nil || bb.IsDir() {
		t.Skip("/bin/busybox not installed")
	}
	got := listApplets("/bin/busybox")
	has := map[string]bool{}
	for _, a := range got {
		has[a] = true
	}
	for _, a := range []string{"sh", "httpd", "wget", "ip"} {
		if !has[a] {
			t.Errorf("applet %s not listed by /bin/busybox --list", a)
		}
	}
}
