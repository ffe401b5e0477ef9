// Package ociarchive writes small OCI image archives without a registry, so
// tests and the quick start have an image on a machine with no internet.
package ociarchive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// fallbackApplets is used when the busybox binary cannot list its own
// applets; it covers what pods in tests and the quick start call.
var fallbackApplets = []string{
	"sh", "ls", "cat", "echo", "sleep", "hostname", "httpd", "wget", "nc",
	"ip", "ifconfig", "id", "mkdir", "chmod", "printf", "env", "ps", "kill",
	"true", "false", "test", "grep", "sed", "cut", "awk", "rm", "cp", "mv",
	"touch", "date", "head", "tail", "wc", "uname", "ping", "df", "mount",
}

// epoch is the fixed modification time of every entry, so the same busybox
// binary always yields the same layer digest (and the same image ID).
var epoch = time.Unix(0, 0).UTC()

// BuildBusybox writes an OCI image archive named ref whose rootfs holds the
// busybox binary at busyboxPath as /bin/busybox plus one symlink per applet.
func BuildBusybox(w io.Writer, ref string, busyboxPath string) error {
	return BuildBusyboxCmd(w, ref, busyboxPath, []string{"sh"})
}

// BuildBusyboxCmd is BuildBusybox with cmd as the image's command, so a
// chart that sets only the image (helm create's) can run a server.
func BuildBusyboxCmd(w io.Writer, ref string, busyboxPath string, cmd []string) error {
	return BuildBusyboxWith(w, ref, busyboxPath, cmd, nil)
}

// BuildBusyboxWith is BuildBusyboxCmd with extra files in the image (see
// extra.go), e.g. a static program a test runs as a pod.
func BuildBusyboxWith(w io.Writer, ref string, busyboxPath string, cmd []string, extra []File) error {
	bin, err := os.ReadFile(busyboxPath)
	if err != nil {
		return fmt.Errorf("read busybox %s: %w", busyboxPath, err)
	}
	files, err := readFiles(extra)
	if err != nil {
		return err
	}
	applets := listApplets(busyboxPath)
	layer, diffID, err := busyboxLayer(bin, applets, files)
	if err != nil {
		return fmt.Errorf("build busybox layer: %w", err)
	}
	return writeArchive(w, ref, imageSpec{
		arch:        runtime.GOARCH,
		cmd:         cmd,
		env:         []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		layerGzip:   layer,
		layerDiffID: diffID,
	})
}

// listApplets asks the binary itself, because the applet set depends on how
// it was built; a fixed list is the fallback when it cannot answer.
func listApplets(busyboxPath string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, busyboxPath, "--list").Output()
	if err != nil {
		return fallbackApplets
	}
	var names []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && l != "busybox" && !strings.Contains(l, "/") {
			names = append(names, l)
		}
	}
	if len(names) == 0 {
		return fallbackApplets
	}
	sort.Strings(names)
	return names
}

// busyboxLayer returns the gzip layer and the digest of its uncompressed tar.
func busyboxLayer(bin []byte, applets []string, extra []extraFile) ([]byte, digest.Digest, error) {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	dir := func(name string, mode int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, ModTime: epoch})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: epoch}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for _, d := range []string{"bin", "etc", "root", "usr", "usr/bin", "var", "proc", "sys", "dev", "www"} {
		if err := dir(d, 0o755); err != nil {
			return nil, "", err
		}
	}
	if err := dir("tmp", 0o1777); err != nil {
		return nil, "", err
	}
	if err := file("bin/busybox", 0o755, bin); err != nil {
		return nil, "", err
	}
	for _, a := range applets {
		if replaced(extra, "bin/"+a) {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777, ModTime: epoch}); err != nil {
			return nil, "", err
		}
	}
	files := []struct {
		name string
		data string
	}{
		{"etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"},
		{"etc/group", "root:x:0:\nnogroup:x:65534:\n"},
		{"www/index.html", "hello from shoal\n"},
	}
	for _, f := range files {
		if err := file(f.name, 0o644, []byte(f.data)); err != nil {
			return nil, "", err
		}
	}
	for _, f := range extra {
		if err := file(f.path, 0o755, f.data); err != nil {
			return nil, "", err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, "", err
	}
	diffID := digestOf(raw.Bytes())

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz) // zero header time and name keep the digest stable
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, "", err
	}
	if err := zw.Close(); err != nil {
		return nil, "", err
	}
	return gz.Bytes(), diffID, nil
}
