package api

import (
	"bytes"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
)

// ContentTypeProtobuf is Kubernetes' protobuf media type, client-go's
// default for typed writes.
const ContentTypeProtobuf = runtime.ContentTypeProtobuf

var (
	protobufSerializer = protobuf.NewSerializer(scheme, scheme)
	// laxJSON reads what shoal itself wrote, to re-encode it as protobuf.
	laxJSON = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{})
)

// ProtobufToJSON decodes a protobuf body of a served kind through the
// scheme's protobuf serializer and returns the same object as JSON, for
// the strict JSON path (supported fields, defaults, validation) to judge.
func ProtobufToJSON(data []byte) ([]byte, error) {
	obj, gvk, err := protobufSerializer.Decode(data, nil, nil)
	if err != nil {
		return nil, &FieldError{Path: "<root>", Detail: "protobuf: " + err.Error()}
	}
	if gvk != nil {
		obj.GetObjectKind().SetGroupVersionKind(*gvk)
	}
	js, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("protobuf: re-encode %s as JSON: %w", gvk, err)
	}
	return js, nil
}

// JSONToProtobuf re-encodes a JSON answer as protobuf; ok is false when it
// is not an object of a kind the scheme has protobuf for (a Table, a
// discovery document), which then goes out as JSON.
func JSONToProtobuf(data []byte) ([]byte, bool) {
	obj, _, err := laxJSON.Decode(data, nil, nil)
	if err != nil {
		return nil, false
	}
	var buf bytes.Buffer
	if err := protobufSerializer.Encode(obj, &buf); err != nil {
		return nil, false
	}
	return buf.Bytes(), true
}

// EncodeProtobuf writes obj (of a served kind, with apiVersion and kind
// set) as Kubernetes protobuf.
func EncodeProtobuf(obj runtime.Object) ([]byte, error) {
	var buf bytes.Buffer
	if err := protobufSerializer.Encode(obj, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DecodeProtobuf reads a Kubernetes protobuf object of a served kind.
func DecodeProtobuf(data []byte) (runtime.Object, error) {
	obj, _, err := protobufSerializer.Decode(data, nil, nil)
	return obj, err
}
