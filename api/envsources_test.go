package api

import (
	"strings"
	"testing"
)

func TestEnvSourcesAreDefaultedAndAccepted(t *testing.T) {
	objs, err := Decode(strings.NewReader(`apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: busybox:1
    resources: {limits: {memory: 64Mi}}
    env:
    - {name: MODE, valueFrom: {configMapKeyRef: {name: cfg, key: MODE}}}
    - {name: PASS, valueFrom: {secretKeyRef: {name: s, key: pass, optional: true}}}
    - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: TEAM, valueFrom: {fieldRef: {fieldPath: "metadata.labels['team']"}}}
    - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    - {name: CPU, valueFrom: {resourceFieldRef: {resource: requests.cpu}}}
    envFrom:
    - {configMapRef: {name: cfg}}
    - {prefix: S_, secretRef: {name: s, optional: true}}
`))
	if err != nil {
		t.Fatal(err)
	}
	c := objs[0].(*Pod).Spec.Containers[0]
	if c.Env[2].ValueFrom.FieldRef.APIVersion != "v1" || c.Env[6].ValueFrom.ResourceFieldRef.Divisor.String() != "1" {
		t.Errorf("defaults: fieldRef %+v, divisor %s", c.Env[2].ValueFrom.FieldRef, c.Env[6].ValueFrom.ResourceFieldRef.Divisor.String())
	}
}

func TestBadEnvSourcesAreRefusedNamingTheField(t *testing.T) {
	for _, c := range []struct{ env, want string }{
		{`"env":[{"name":"A","value":"x","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}]`, "spec.containers[0].env[0].valueFrom: may not be specified when `value` is not empty"},
		{`"env":[{"name":"A","valueFrom":{}}]`, "spec.containers[0].env[0].valueFrom: must have exactly one of"},
		{`"env":[{"name":"A","valueFrom":{"configMapKeyRef":{"name":"c","key":"a/b"}}}]`, `spec.containers[0].env[0].valueFrom.configMapKeyRef.key: invalid value "a/b"`},
		{`"env":[{"name":"A","valueFrom":{"secretKeyRef":{"name":"s"}}}]`, "spec.containers[0].env[0].valueFrom.secretKeyRef.key: required"},
		{`"env":[{"name":"A","valueFrom":{"configMapKeyRef":{"key":"k"}}}]`, "spec.containers[0].env[0].valueFrom.configMapKeyRef.name"},
		{`"env":[{"name":"A","valueFrom":{"fieldRef":{"fieldPath":"spec.serviceAccountName"}}}]`, `spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: invalid value "spec.serviceAccountName": supported values: metadata.name`},
		{`"env":[{"name":"A","valueFrom":{"fieldRef":{"apiVersion":"v2","fieldPath":"metadata.name"}}}]`, "fieldRef.apiVersion"},
		{`"env":[{"name":"A","valueFrom":{"resourceFieldRef":{"resource":"limits.cpu"}}}]`, "without resources.limits.cpu on the container"},
		{`"env":[{"name":"A","valueFrom":{"resourceFieldRef":{"resource":"limits.gpu"}}}]`, `resourceFieldRef.resource: invalid value "limits.gpu"`},
		{`"envFrom":[{"prefix":"1X","configMapRef":{"name":"c"}}]`, `spec.containers[0].envFrom[0].prefix: invalid value "1X"`},
		{`"envFrom":[{"configMapRef":{"name":"c"},"secretRef":{"name":"s"}}]`, "spec.containers[0].envFrom[0]: must have exactly one of configMapRef or secretRef, has 2"},
	} {
		err := DecodeObject([]byte(jsonf(minimalPodJSON, ","+c.env, "")), &Pod{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.env, err, c.want)
		}
	}
}
