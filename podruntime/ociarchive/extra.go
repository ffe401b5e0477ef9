package ociarchive

import (
	"fmt"
	"os"
	"path"
	"strings"
)

// File is one file added to a busybox image: the host file Source at
// Path inside the image (a directory that exists there, such as bin/ or
// usr/bin/). A file at bin/NAME takes the place of busybox's applet NAME.
type File struct {
	Path   string
	Source string
}

// ParseFile reads SRC:DST, as `shoal image build-busybox --add` takes it.
func ParseFile(s string) (File, error) {
	src, dst, ok := strings.Cut(s, ":")
	if !ok || src == "" || dst == "" {
		return File{}, fmt.Errorf("add %q: want SRC:DST, e.g. ./prog:/bin/prog", s)
	}
	return File{Path: dst, Source: src}, nil
}

type extraFile struct {
	path string // relative to the image's root
	data []byte
}

func readFiles(fs []File) ([]extraFile, error) {
	var out []extraFile
	for _, f := range fs {
		p := strings.TrimPrefix(path.Clean("/"+f.Path), "/")
		switch path.Dir(p) {
		case "bin", "usr/bin", "etc", "www":
		default:
			return nil, fmt.Errorf("add %s: the image has directories bin, usr/bin, etc and www; put the file in one of them", f.Path)
		}
		data, err := os.ReadFile(f.Source)
		if err != nil {
			return nil, fmt.Errorf("add %s: %w", f.Path, err)
		}
		out = append(out, extraFile{path: p, data: data})
	}
	return out, nil
}

func replaced(extra []extraFile, p string) bool {
	for _, f := range extra {
		if f.path == p {
			return true
		}
	}
	return false
}
