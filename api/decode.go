package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// MaxManifestBytes bounds one manifest stream; larger input is refused.
const MaxManifestBytes = 4 << 20

// maxDepth bounds nesting so a hostile document cannot exhaust the stack.
const maxDepth = 64

// maxListDepth bounds Lists inside Lists: every level is parsed again, so
// deep nesting would cost time quadratic in the manifest's size (a 200 KB
// manifest of Lists took minutes before this bound).
const maxListDepth = 4

// Decode reads YAML or JSON: one document, many separated by `---`, or a
// `kind: List`. Every object is decoded strictly (an unknown field is an
// error naming its path), defaulted and validated.
func Decode(r io.Reader) ([]Object, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if len(data) > MaxManifestBytes {
		return nil, fmt.Errorf("manifest larger than %d bytes", MaxManifestBytes)
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []Object
	for doc := 1; ; doc++ {
		chunk, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		if len(bytes.TrimSpace(stripComments(chunk))) == 0 {
			continue
		}
		objs, err := decodeDocument(chunk, 0)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		out = append(out, objs...)
	}
	if len(out) == 0 {
		return nil, errors.New("manifest holds no object")
	}
	return out, nil
}

// DecodeObject decodes exactly one object of the kind of into (JSON or YAML).
func DecodeObject(data []byte, into Object) error {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	if err := strictUnmarshal(js, into); err != nil {
		return err
	}
	if err := checkTypeMeta(into); err != nil {
		return err
	}
	Default(into)
	return Validate(into)
}

// checkTypeMeta refuses a document that names another kind or apiVersion
// than the object it is decoded into: defaulting would overwrite them and
// silently turn, say, a v2 Pod into a v1 one.
func checkTypeMeta(obj Object) error {
	var want TypeMeta
	switch obj.(type) {
	case *Pod:
		want = TypeMeta{APIVersion: "v1", Kind: "Pod"}
	case *Node:
		want = TypeMeta{APIVersion: "v1", Kind: "Node"}
	case *ReplicationController:
		want = TypeMeta{APIVersion: "v1", Kind: KindReplicationController}
	case *ReplicaSet:
		want = TypeMeta{APIVersion: AppsV1, Kind: KindReplicaSet}
	case *Secret:
		want = TypeMeta{APIVersion: "v1", Kind: "Secret"}
	default:
		return nil
	}
	got := obj.GetTypeMeta()
	var errs FieldErrors
	if got.Kind != "" && got.Kind != want.Kind {
		errs = append(errs, &FieldError{Path: "kind", Value: got.Kind, Detail: "must be " + want.Kind + " here"})
	}
	if got.APIVersion != "" && got.APIVersion != want.APIVersion {
		errs = append(errs, &FieldError{Path: "apiVersion", Value: got.APIVersion, Detail: "must be " + want.APIVersion + " for a " + want.Kind})
	}
	return errs.orNil()
}

func decodeDocument(chunk []byte, listDepth int) ([]Object, error) {
	js, err := yaml.YAMLToJSONStrict(chunk)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	var tm TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, fmt.Errorf("parse: document is not an object: %w", err)
	}
	if tm.Kind == "List" || (tm.APIVersion == "v1" && len(tm.Kind) > 4 && tm.Kind[len(tm.Kind)-4:] == "List") {
		if listDepth >= maxListDepth {
			return nil, &FieldError{Path: "kind", Value: tm.Kind, Detail: fmt.Sprintf("Lists nested deeper than %d levels", maxListDepth)}
		}
		return decodeList(js, listDepth+1)
	}
	obj, err := newObject(tm)
	if err != nil {
		return nil, err
	}
	if err := strictUnmarshal(js, obj); err != nil {
		return nil, err
	}
	Default(obj)
	if err := Validate(obj); err != nil {
		return nil, err
	}
	return []Object{obj}, nil
}

// rawList is a List document whose items are decoded one by one.
type rawList struct {
	TypeMeta `json:",inline"`
	Metadata ListMeta          `json:"metadata"`
	Items    []json.RawMessage `json:"items"`
}

func decodeList(js []byte, listDepth int) ([]Object, error) {
	var l rawList
	if err := strictUnmarshal(js, &l); err != nil {
		return nil, err
	}
	var out []Object
	for i, item := range l.Items {
		objs, err := decodeDocument(item, listDepth)
		if err != nil {
			return nil, fmt.Errorf("items[%d]: %w", i, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// strictUnmarshal checks every key of js against into's type before decoding,
// so that the error names the full path of an unknown or mistyped field.
func strictUnmarshal(js []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	if errs := checkFields("", generic, typeOf(into), 0); len(errs) > 0 {
		return errs
	}
	if err := json.Unmarshal(js, into); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// stripComments drops YAML comment lines, to tell an empty document from a real one.
func stripComments(b []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		out = append(out, line...)
		out = append(out, '\n')
	}
	return out
}
