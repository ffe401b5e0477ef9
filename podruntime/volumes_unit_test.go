package podruntime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func TestSubPathIsCreatedAndMayNotLeaveTheVolume(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	got, err := subPathSource(root, "a/b")
	if err != nil || got != filepath.Join(root, "a", "b") {
		t.Fatalf("subPathSource = %s, %v", got, err)
	}
	if fi, err := os.Stat(got); err != nil || !fi.IsDir() {
		t.Fatalf("subPath not created: %v", err)
	}
	if _, err := subPathSource(root, "escape"); err == nil || !strings.Contains(err.Error(), "leads out of the volume") {
		t.Fatalf("symlink out of the volume accepted: %v", err)
	}
}

func TestHostPathTypesAreChecked(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	typ := func(s string) *string { return &s }
	for _, tc := range []struct {
		path, typ string
		ok        bool
	}{
		{dir, api.HostPathDirectory, true},
		{file, api.HostPathDirectory, false},
		{file, api.HostPathFile, true},
		{dir, api.HostPathFile, false},
		{filepath.Join(dir, "missing"), api.HostPathDirectory, false},
		{filepath.Join(dir, "new", "deep"), api.HostPathDirectoryOrCreate, true},
		{filepath.Join(dir, "newfile"), api.HostPathFileOrCreate, true},
		{filepath.Join(dir, "missing"), api.HostPathUnset, true},
		{"/dev/null", api.HostPathCharDev, true},
		{dir, api.HostPathSocket, false},
	} {
		err := ensureHostPath(&api.HostPathVolumeSource{Path: tc.path, Type: typ(tc.typ)})
		if (err == nil) != tc.ok {
			t.Errorf("%s as %q: err %v, want ok=%v", tc.path, tc.typ, err, tc.ok)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "newfile")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("FileOrCreate did not create a file: %v", err)
	}
}
