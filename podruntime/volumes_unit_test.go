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
	typ := func(s string) *api.HostPathTypeName { t := api.HostPathTypeName(s); return &t }
	for _, tc := range []struct {
		path, typ string
		ok        bool
	}{
		{dir, string(api.HostPathDirectory), true},
		{file, string(api.HostPathDirectory), false},
		{file, string(api.HostPathFile), true},
		{dir, string(api.HostPathFile), false},
		{filepath.Join(dir, "missing"), string(api.HostPathDirectory), false},
		{filepath.Join(dir, "new", "deep"), string(api.HostPathDirectoryOrCreate), true},
		{filepath.Join(dir, "newfile"), string(api.HostPathFileOrCreate), true},
		{filepath.Join(dir, "missing"), string(api.HostPathUnset), true},
		{"/dev/null", string(api.HostPathCharDev), true},
		{dir, string(api.HostPathSocket), false},
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
