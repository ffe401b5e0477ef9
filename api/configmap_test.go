package api

import (
	"strings"
	"testing"
)

func TestDecodeConfigMapDefaultsItsNamespaceAndKeepsBinaryData(t *testing.T) {
	objs, err := Decode(strings.NewReader(`apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data:
  app.properties: "a=b\n"
  MODE: fast
binaryData:
  blob: AAEC
immutable: false
`))
	if err != nil {
		t.Fatal(err)
	}
	c := objs[0].(*ConfigMap)
	if c.ObjectMeta.Namespace != "default" || c.Data["MODE"] != "fast" || string(c.BinaryData["blob"]) != "\x00\x01\x02" {
		t.Errorf("decoded %+v", c)
	}
}

func TestBadConfigMapsAreRefusedNamingTheField(t *testing.T) {
	big := strings.Repeat("x", maxConfigMapBytes)
	for _, c := range []struct {
		name string
		cm   ConfigMap
		want string
	}{
		{"slash in a key", ConfigMap{Data: map[string]string{"a/b": "v"}}, `data: invalid value "a/b"`},
		{"dot dot", ConfigMap{Data: map[string]string{"..x": "v"}}, `data: invalid value "..x": must not start with '..'`},
		{"dot", ConfigMap{BinaryData: map[string][]byte{".": nil}}, `binaryData: invalid value ".": must not be '.'`},
		{"empty key", ConfigMap{Data: map[string]string{"": "v"}}, `data: `},
		{"key in both", ConfigMap{Data: map[string]string{"k": "v"}, BinaryData: map[string][]byte{"k": nil}}, `binaryData: invalid value "k": duplicate of a key in data`},
		{"too big", ConfigMap{Data: map[string]string{"k": big}}, "a ConfigMap holds at most 1048576"},
		{"bad name", ConfigMap{ObjectMeta: ObjectMeta{Name: "Bad_Name"}}, "metadata.name"},
	} {
		cm := c.cm
		if cm.Name == "" {
			cm.Name = "x"
		}
		defaultConfigMap(&cm)
		err := ValidateConfigMap(&cm)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	ok := ConfigMap{ObjectMeta: ObjectMeta{Name: "ok"}, Data: map[string]string{"a.b-c_D": "v", ".hidden": "v"}}
	defaultConfigMap(&ok)
	if err := ValidateConfigMap(&ok); err != nil {
		t.Errorf("valid keys refused: %v", err)
	}
}
