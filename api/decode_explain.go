package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

var jsonUnmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

// explainDecodeError finds why data did not decode into into: it walks the
// decoded JSON beside into's Go type and names, with its full path, every
// value of the wrong JSON type (the decoder's own error lacks list indices).
// Unknown fields are the strict decoder's to report, not this walk's.
func explainDecodeError(data []byte, into any) FieldErrors {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return FieldErrors{{Path: "<root>", Detail: "parse: " + err.Error()}}
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return FieldErrors{{Path: "<root>", Detail: "parse: " + err.Error()}}
	}
	return checkFields("", generic, reflect.TypeOf(into), 0)
}

// checkFields walks a decoded JSON value beside the Go type it will be
// decoded into and reports every key the type has no field for, and every
// value of the wrong JSON type, with its full path.
func checkFields(path string, v any, t reflect.Type, depth int) FieldErrors {
	if depth > maxDepth {
		return FieldErrors{{Path: orRoot(path), Detail: fmt.Sprintf("nested deeper than %d levels", maxDepth)}}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return nil
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || t.Implements(jsonUnmarshaler) {
		// Leaf types with their own decoding (quantities, times, raw JSON)
		// still may not hide an object or a list.
		switch v.(type) {
		case map[string]any, []any:
			if t != reflect.TypeOf(json.RawMessage{}) {
				return FieldErrors{{Path: orRoot(path), Detail: "expected a scalar value"}}
			}
			return nil
		}
		// Decode the leaf alone so its own error gets the path it lacks.
		raw, err := json.Marshal(v)
		if err != nil {
			return FieldErrors{{Path: orRoot(path), Detail: err.Error()}}
		}
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			return FieldErrors{{Path: orRoot(path), Value: fmt.Sprint(v), Detail: err.Error()}}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return mistyped(path, v, "an object")
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var errs FieldErrors
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				continue
			}
			errs = append(errs, checkFields(join(path, k), m[k], ft, depth+1)...)
		}
		return errs
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return mistyped(path, v, "an object")
		}
		var errs FieldErrors
		for k, item := range m {
			errs = append(errs, checkFields(join(path, k), item, t.Elem(), depth+1)...)
		}
		return errs
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			str, ok := v.(string)
			if !ok {
				return mistyped(path, v, "a string")
			}
			// encoding/json's own error would not say which value.
			if _, err := base64.StdEncoding.DecodeString(str); err != nil {
				return FieldErrors{{Path: orRoot(path), Detail: "must be base64: " + err.Error()}}
			}
			return nil
		}
		l, ok := v.([]any)
		if !ok {
			return mistyped(path, v, "a list")
		}
		var errs FieldErrors
		for i, item := range l {
			errs = append(errs, checkFields(fmt.Sprintf("%s[%d]", path, i), item, t.Elem(), depth+1)...)
		}
		return errs
	case reflect.String:
		if _, ok := v.(string); !ok {
			return mistyped(path, v, "a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return mistyped(path, v, "true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			return mistyped(path, v, "an integer")
		}
		if _, err := n.Int64(); err != nil {
			return FieldErrors{{Path: orRoot(path), Value: n.String(), Detail: "expected an integer"}}
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			return mistyped(path, v, "a number")
		}
	}
	return nil
}

func mistyped(path string, v any, want string) FieldErrors {
	return FieldErrors{{Path: orRoot(path), Detail: fmt.Sprintf("expected %s, got %s", want, jsonKind(v))}}
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	}
	return "null"
}

// jsonFields maps JSON names to field types, flattening inline/embedded structs.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range jsonFields(ft) {
				out[k] = v
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func orRoot(path string) string {
	if path == "" {
		return "<root>"
	}
	return path
}
