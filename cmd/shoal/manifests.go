package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/shoal-dev/shoal/api"
)

// readManifests decodes every object of the given files, directories (their
// .yaml, .yml and .json files) or "-" for standard input. It stops at the
// first bad file, before anything is sent, so a bad manifest changes nothing.
func readManifests(paths []string, stdin io.Reader) ([]api.Object, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("no manifest given: use -f FILE, -f DIR or -f -")
	}
	var out []api.Object
	for _, p := range paths {
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			var data []byte
			if f == "-" {
				data, err = io.ReadAll(io.LimitReader(stdin, api.MaxManifestBytes+1))
			} else {
				data, err = os.ReadFile(f)
			}
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", f, err)
			}
			objs, err := api.Decode(bytes.NewReader(data))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out = append(out, objs...)
		}
	}
	return out, nil
}

func expand(p string) ([]string, error) {
	if p == "-" {
		return []string{p}, nil
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if !e.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
			files = append(files, filepath.Join(p, e.Name()))
		}
	}
	sort.Strings(files)
	return files, nil
}

// objectNamespace applies the -n flag: it fills an empty namespace and
// refuses a manifest that names another one, as kubectl does.
func objectNamespace(obj api.Object, flag string) (string, error) {
	md := api.MetaOf(obj)
	if flag == "" {
		return md.Namespace, nil
	}
	if md.Namespace != "" && md.Namespace != api.DefaultNamespace && md.Namespace != flag {
		return "", fmt.Errorf("%s %s: the namespace from the manifest (%s) does not match --namespace %s", api.TypeMetaOf(obj).Kind, md.Name, md.Namespace, flag)
	}
	md.Namespace = flag
	return flag, nil
}
