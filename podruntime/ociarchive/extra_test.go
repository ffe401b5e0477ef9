package ociarchive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// layerOf returns the headers and contents of an archive's only layer.
func layerOf(t *testing.T, archive []byte) (map[string][]byte, map[string]*tar.Header) {
	t.Helper()
	files, _ := readTar(t, bytes.NewReader(archive))
	var idx ocispec.Index
	if err := json.Unmarshal(files["index.json"], &idx); err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(blob(t, files, idx.Manifests[0].Digest), &m); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(blob(t, files, m.Layers[0].Digest)))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return readTar(t, bytes.NewReader(raw))
}

func TestBuildBusyboxWithAddsFilesAndReplacesApplets(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "busybox")
	prog := filepath.Join(dir, "prog")
	wget := filepath.Join(dir, "wget")
	for f, data := range map[string]string{fake: "#!/bin/false\n", prog: "PROG", wget: "WGET"} {
		if err := os.WriteFile(f, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var extra []File
	for _, a := range []string{prog + ":/usr/bin/prog", wget + ":/bin/wget"} {
		f, err := ParseFile(a)
		if err != nil {
			t.Fatal(err)
		}
		extra = append(extra, f)
	}
	var buf bytes.Buffer
	if err := BuildBusyboxWith(&buf, "shoal.local/x:1", fake, []string{"/usr/bin/prog"}, extra); err != nil {
		t.Fatal(err)
	}
	rootfs, hdrs := layerOf(t, buf.Bytes())
	if string(rootfs["usr/bin/prog"]) != "PROG" || hdrs["usr/bin/prog"].Mode != 0o755 {
		t.Errorf("usr/bin/prog: %q mode %o, want PROG 755", rootfs["usr/bin/prog"], hdrs["usr/bin/prog"].Mode)
	}
	if h := hdrs["bin/wget"]; h == nil || h.Typeflag != tar.TypeReg || string(rootfs["bin/wget"]) != "WGET" {
		t.Errorf("bin/wget is not the added file: %+v", h)
	}
	if h := hdrs["bin/sh"]; h == nil || h.Typeflag != tar.TypeSymlink {
		t.Errorf("bin/sh is no longer busybox's applet")
	}
}

func TestBuildBusyboxWithRefusesBadFiles(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "busybox")
	if err := os.WriteFile(fake, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		add, want string
	}{
		{"nocolon", "want SRC:DST"},
		{fake + ":/opt/prog", "put the file in one of them"},
		{filepath.Join(t.TempDir(), "missing") + ":/bin/prog", "no such file"},
	} {
		f, err := ParseFile(tc.add)
		if err == nil {
			err = BuildBusyboxWith(io.Discard, "shoal.local/x:1", fake, nil, []File{f})
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("add %s: %v, want an error saying %q", tc.add, err, tc.want)
		}
	}
}
