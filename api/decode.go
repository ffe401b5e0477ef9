package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
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

// DecodeObject decodes exactly one object of the kind of into (JSON or
// YAML), strictly, refuses fields shoal does not support, then defaults and
// validates it.
func DecodeObject(data []byte, into Object) error {
	if err := checkTypeMeta(data, into); err != nil {
		return err
	}
	if err := decodeStrict(data, into); err != nil {
		return err
	}
	if err := checkSupported(into); err != nil {
		return err
	}
	Default(into)
	return Validate(into)
}

// DecodeStrict decodes one JSON or YAML document into into, naming any
// unknown or unsupported field, without defaulting or validating (for
// subresources such as Scale).
func DecodeStrict(data []byte, into runtime.Object) error {
	if err := decodeStrict(data, into); err != nil {
		return err
	}
	return checkSupported(into)
}

// checkTypeMeta refuses a document that names another kind or apiVersion
// than the object it is decoded into: defaulting would overwrite them and
// silently turn, say, a v2 Pod into a v1 one.
func checkTypeMeta(data []byte, obj Object) error {
	var want TypeMeta
	switch obj.(type) {
	case *Pod:
		want = TypeMeta{APIVersion: V1, Kind: KindPod}
	case *Node:
		want = TypeMeta{APIVersion: V1, Kind: KindNode}
	case *ReplicationController:
		want = TypeMeta{APIVersion: V1, Kind: KindReplicationController}
	case *ReplicaSet:
		want = TypeMeta{APIVersion: AppsV1, Kind: KindReplicaSet}
	case *Deployment:
		want = TypeMeta{APIVersion: AppsV1, Kind: KindDeployment}
	case *DaemonSet:
		want = TypeMeta{APIVersion: AppsV1, Kind: KindDaemonSet}
	case *ControllerRevision:
		want = TypeMeta{APIVersion: AppsV1, Kind: KindControllerRevision}
	case *Secret:
		want = TypeMeta{APIVersion: V1, Kind: KindSecret}
	case *ConfigMap:
		want = TypeMeta{APIVersion: V1, Kind: KindConfigMap}
	case *Service:
		want = TypeMeta{APIVersion: V1, Kind: KindService}
	case *Endpoints:
		want = TypeMeta{APIVersion: V1, Kind: KindEndpoints}
	case *EndpointSlice:
		want = TypeMeta{APIVersion: DiscoveryV1, Kind: KindEndpointSlice}
	case *Namespace:
		want = TypeMeta{APIVersion: V1, Kind: KindNamespace}
	case *Job:
		want = TypeMeta{APIVersion: BatchV1, Kind: KindJob}
	case *CronJob:
		want = TypeMeta{APIVersion: BatchV1, Kind: KindCronJob}
	case *Lease:
		want = TypeMeta{APIVersion: CoordinationV1, Kind: KindLease}
	case *Event:
		want = TypeMeta{APIVersion: V1, Kind: KindEvent}
	default:
		return nil
	}
	got, err := typeMetaOf(data)
	if err != nil {
		return err
	}
	var errs FieldErrors
	if got.Kind != "" && got.Kind != want.Kind {
		errs = append(errs, &FieldError{Path: "kind", Value: got.Kind, Detail: "must be " + want.Kind + " here"})
	}
	if got.APIVersion != "" && got.APIVersion != want.APIVersion {
		errs = append(errs, &FieldError{Path: "apiVersion", Value: got.APIVersion, Detail: "must be " + want.APIVersion + " for a " + want.Kind})
	}
	return errs.orNil()
}

// typeMetaOf reads a document's apiVersion and kind.
func typeMetaOf(data []byte) (TypeMeta, error) {
	var tm TypeMeta
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return tm, fmt.Errorf("parse: %w", err)
	}
	if err := json.Unmarshal(js, &tm); err != nil {
		if errs := explainDecodeError(js, &tm); len(errs) > 0 {
			return tm, errs
		}
		return tm, fmt.Errorf("parse: document is not an object: %w", err)
	}
	return tm, nil
}

func decodeDocument(chunk []byte, listDepth int) ([]Object, error) {
	tm, err := typeMetaOf(chunk)
	if err != nil {
		return nil, err
	}
	if tm.Kind == "List" || (tm.APIVersion == V1 && len(tm.Kind) > 4 && tm.Kind[len(tm.Kind)-4:] == "List") {
		if listDepth >= maxListDepth {
			return nil, &FieldError{Path: "kind", Value: tm.Kind, Detail: fmt.Sprintf("Lists nested deeper than %d levels", maxListDepth)}
		}
		js, err := yaml.YAMLToJSONStrict(chunk)
		if err != nil {
			return nil, fmt.Errorf("parse: %w", err)
		}
		return decodeList(js, listDepth+1)
	}
	obj, err := newObject(tm)
	if err != nil {
		return nil, err
	}
	if err := decodeStrict(chunk, obj); err != nil {
		return nil, err
	}
	if err := checkSupported(obj); err != nil {
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
	strictErrs, err := sigsjson.UnmarshalStrict(js, &l)
	if err != nil {
		if errs := explainDecodeError(js, &l); len(errs) > 0 {
			return nil, errs
		}
		return nil, fmt.Errorf("decode: %w", err)
	}
	if len(strictErrs) > 0 {
		return nil, strictFieldErrors(strictErrs)
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
