package agent

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"
)

// ApplyConfigFile sets the flags of fs from a YAML file whose keys are the
// flag names (bind-addr: 10.0.0.1, join: [a:7946, b:7946], labels:
// {zone: a}). A flag given on the command line wins over the file, so one
// file can serve a whole fleet and a machine overrides what differs. The
// keys are the flags themselves, not a second naming, so every flag is
// settable in the file and a new flag is too without more code. An unknown
// key is an error that names it: a typo never silently does nothing.
func ApplyConfigFile(path string, fs *pflag.FlagSet) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, key := range keys {
		f := fs.Lookup(key)
		if f == nil || key == "config" {
			errs = append(errs, fmt.Errorf("config file %s: unknown key %q (the keys are the flag names of `shoal agent --help`)", path, key))
			continue
		}
		if f.Changed {
			continue
		}
		vals, err := flagValues(doc[key])
		if err != nil {
			errs = append(errs, fmt.Errorf("config file %s: %s: %w", path, key, err))
			continue
		}
		if err := setFlag(fs, key, vals); err != nil {
			errs = append(errs, fmt.Errorf("config file %s: %s: %w", path, key, err))
		}
	}
	return errors.Join(errs...)
}

// setFlag gives a flag the file's value(s).
func setFlag(fs *pflag.FlagSet, name string, vals []string) error {
	f := fs.Lookup(name)
	if len(vals) == 0 {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			return sv.Replace(nil)
		}
		return fmt.Errorf("empty value")
	}
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		// Replace, not Set: Set on a slice flag splits on commas as CSV,
		// which would mangle a value that contains one.
		if err := sv.Replace(vals); err != nil {
			return err
		}
		f.Changed = true
		return nil
	}
	if len(vals) > 1 {
		return fmt.Errorf("takes one value, the file gives %d", len(vals))
	}
	return fs.Set(name, vals[0])
}

// flagValues turns a YAML value into flag strings: a scalar is one value,
// a list is one value per item, a map (labels) is one key=value per entry.
func flagValues(v any) ([]string, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case []any:
		out := make([]string, 0, len(t))
		for _, item := range t {
			s, err := scalar(item)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	case map[string]any:
		out := make([]string, 0, len(t))
		for k, item := range t {
			s, err := scalar(item)
			if err != nil {
				return nil, err
			}
			out = append(out, k+"="+s)
		}
		sort.Strings(out)
		return out, nil
	default:
		s, err := scalar(v)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
}

func scalar(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case bool:
		return fmt.Sprint(t), nil
	case float64:
		// sigs.k8s.io/yaml decodes every number as float64; ports and
		// counts are whole numbers and must print without an exponent.
		if t == float64(int64(t)) {
			return fmt.Sprint(int64(t)), nil
		}
		return strings.TrimRight(fmt.Sprintf("%f", t), "0"), nil
	case nil:
		return "", nil
	default:
		return "", fmt.Errorf("want a string, number, boolean, list or map, got %T", v)
	}
}
