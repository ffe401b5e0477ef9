package api

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The decode fuzzers hold Decode to its promise for any bytes at all: either
// a clear error, or objects that are valid and survive a JSON round trip
// unchanged (what the API stores is what it would accept back). Their seed
// corpora in testdata/fuzz run as ordinary tests in `make test`; `make fuzz`
// searches further.

var fuzzSeeds = []string{
	coScheduled,
	`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"},"spec":{"containers":[{"name":"a","image":"busybox"}]}}`,
	`apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  replicas: 3
  selector: {app: web}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: "busybox:1", ports: [{containerPort: 80, name: http}]}]
`,
	`apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs, namespace: team}
spec:
  replicas: 0
  selector: {matchLabels: {app: rs}, matchExpressions: [{key: tier, operator: In, values: [a, b]}]}
  template:
    metadata: {labels: {app: rs, tier: a}}
    spec:
      initContainers: [{name: init, image: "busybox:1", command: ["true"]}]
      containers:
      - name: app
        image: busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000
        env: [{name: A, value: "1"}]
        resources: {limits: {cpu: 250m, memory: 64Mi}}
        livenessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 5}
      volumes: [{name: scratch, emptyDir: {}}]
`,
	`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","labels":{"zone":"a"}}}]}`,
	"apiVersion: v1\nkind: Pod\n---\n# comment only\n---\n",
	`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"UPPER"},"spec":{"containers":[]}}`,
	`{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"neg"},"spec":{"replicas":-1}}`,
	`{"apiVersion":"v2","kind":"Pod"}`,
	strings.Repeat("[", 100) + strings.Repeat("]", 100),
	`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"List","items":[]}]}`,
	"a: &a [*a, *a]\nb: *a\n",
	`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"reg"},"type":"kubernetes.io/dockerconfigjson","data":{".dockerconfigjson":"eyJhdXRocyI6eyJyZWcuZXhhbXBsZTo1MDAwIjp7InVzZXJuYW1lIjoidSIsInBhc3N3b3JkIjoicCJ9fX0="}}`,
	"apiVersion: v1\nkind: Secret\nmetadata: {name: plain}\nimmutable: true\nstringData: {user: admin}\ndata: {pass: cGFzcw==}\n",
	`apiVersion: v1
kind: Pod
metadata:
  name: full
  namespace: team
  labels: {app.kubernetes.io/name: full, tier: "1"}
  annotations: {note: "x"}
spec:
  restartPolicy: Never
  nodeSelector: {zone: a}
  hostname: full
  volumes:
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
  - {name: host, hostPath: {path: /var/log, type: Directory}}
  initContainers:
  - {name: init, image: "busybox:1", command: [sh, -c, "true"], volumeMounts: [{name: mem, mountPath: /m}]}
  containers:
  - name: web
    image: busybox:1
    args: [httpd, -f]
    workingDir: /
    ports: [{name: http, containerPort: 8080}, {containerPort: 53, protocol: UDP}]
    env: [{name: MODE, value: full}]
    resources: {requests: {cpu: "0.5", memory: 128Mi, ephemeral-storage: 1Gi}, limits: {cpu: "1", memory: 256Mi}}
    volumeMounts: [{name: host, mountPath: /h, readOnly: true, subPath: x}]
    livenessProbe: {httpGet: {path: /healthz, port: http, scheme: HTTP, httpHeaders: [{name: X, value: "y"}]}, initialDelaySeconds: 1, timeoutSeconds: 2, periodSeconds: 3, successThreshold: 1, failureThreshold: 4}
    readinessProbe: {tcpSocket: {port: 8080}}
    startupProbe: {exec: {command: [cat, /tmp/ok]}}
`,
	`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"q"},"spec":{"containers":[{"name":"a","image":"b","resources":{"requests":{"memory":"1e100"}}}]}}`,
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := Decode(bytes.NewReader(data))
		if err != nil {
			checkClearError(t, err)
			return
		}
		if len(objs) == 0 {
			t.Fatal("no error and no object")
		}
		for i, obj := range objs {
			checkValidRoundTrip(t, i, obj)
		}
	})
}

// FuzzDecodeObject is the path of a typed endpoint (POST .../pods,
// .../replicationcontrollers): the body must be that kind.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(uint8(0), []byte(s))
		f.Add(uint8(1), []byte(s))
		f.Add(uint8(4), []byte(s))
	}
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		var obj Object
		switch kind % 5 {
		case 0:
			obj = &Pod{}
		case 1:
			obj = &ReplicationController{}
		case 2:
			obj = &ReplicaSet{}
		case 3:
			obj = &Node{}
		default:
			obj = &Secret{}
		}
		if err := DecodeObject(data, obj); err != nil {
			checkClearError(t, err)
			return
		}
		checkValidRoundTrip(t, 0, obj)
	})
}

func checkClearError(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if strings.TrimSpace(msg) == "" {
		t.Fatalf("empty error message (%T)", err)
	}
	for _, fe := range AsFieldErrors(err) {
		if fe.Path == "" || fe.Detail == "" {
			t.Fatalf("field error without a path or a reason: %#v in %q", fe, msg)
		}
	}
}

// checkValidRoundTrip: a decoded object validates, and encoding it and
// decoding that again gives the very same object.
func checkValidRoundTrip(t *testing.T, i int, obj Object) {
	t.Helper()
	if err := Validate(obj); err != nil {
		t.Fatalf("object %d decoded without error but does not validate: %v", i, err)
	}
	first, err := json.Marshal(obj)
	if err != nil {
		t.Fatalf("object %d: encode: %v", i, err)
	}
	if !utf8.Valid(first) {
		t.Fatalf("object %d encodes to invalid UTF-8: %q", i, first)
	}
	again, err := Decode(bytes.NewReader(first))
	if err != nil {
		t.Fatalf("object %d does not decode again: %v\n%s", i, err, first)
	}
	if len(again) != 1 {
		t.Fatalf("object %d decodes again into %d objects", i, len(again))
	}
	second, err := json.Marshal(again[0])
	if err != nil {
		t.Fatalf("object %d: encode again: %v", i, err)
	}
	if !bytes.Equal(first, second) {
		t.Fatalf("object %d changes in a round trip:\nfirst  %s\nsecond %s", i, first, second)
	}
}

// Every List level is parsed again, so Lists nested without bound cost time
// quadratic in the manifest's size (minutes for 200 KB): a few levels are
// accepted, more are a clear error.
func TestNestedListsAreBounded(t *testing.T) {
	nest := func(levels int) string {
		pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"in"},"spec":{"containers":[{"name":"a","image":"busybox:1"}]}}`
		return strings.Repeat(`{"apiVersion":"v1","kind":"List","items":[`, levels) + pod + strings.Repeat("]}", levels)
	}
	objs, err := Decode(strings.NewReader(nest(maxListDepth)))
	if err != nil || len(objs) != 1 {
		t.Fatalf("%d nested Lists: %d objects, %v", maxListDepth, len(objs), err)
	}
	_, err = Decode(strings.NewReader(nest(3000)))
	if err == nil || !strings.Contains(err.Error(), "Lists nested deeper than") {
		t.Fatalf("3000 nested Lists: %v", err)
	}
}

// A zero time must survive a JSON round trip: it is written as null, which
// reads back as a nil pointer, so NewTime gives nil for it (the state
// machine's fuzzer found a snapshot that restored to another state).
func TestZeroTimeRoundTrips(t *testing.T) {
	if NewTime(time.Time{}) != nil {
		t.Fatal("NewTime(zero) is not nil")
	}
	c := PodCondition{Type: "Ready", Status: "True", LastTransitionTime: TimeOf(time.Time{})}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back PodCondition
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(back)
	if !bytes.Equal(b, again) {
		t.Fatalf("%s became %s", b, again)
	}
}

// DecodeObject refuses a document of another kind or apiVersion instead of
// letting defaulting rewrite it (a PATCH to apiVersion v2 was accepted and
// silently stored as v1).
func TestDecodeObjectRefusesAnotherKind(t *testing.T) {
	for _, c := range []struct{ doc, field string }{
		{`{"apiVersion":"v2","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"a","image":"b"}]}}`, "apiVersion"},
		{`{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},"spec":{"containers":[{"name":"a","image":"b"}]}}`, "kind"},
	} {
		err := DecodeObject([]byte(c.doc), &Pod{})
		fes := AsFieldErrors(err)
		if len(fes) != 1 || fes[0].Path != c.field {
			t.Errorf("%s: %v", c.doc, err)
		}
	}
	if err := DecodeObject([]byte(`{"metadata":{"name":"a"},"spec":{"containers":[{"name":"a","image":"b"}]}}`), &Pod{}); err != nil {
		t.Errorf("no kind at all: %v", err)
	}
}

// Bytes that are not base64 are a field error naming the key; the decode
// error alone said "illegal base64 data at input byte 0" of no one knew what.
func TestBadBase64NamesTheKey(t *testing.T) {
	err := DecodeObject([]byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a"},"data":{"token":"!!"}}`), &Secret{})
	fes := AsFieldErrors(err)
	if len(fes) != 1 || fes[0].Path != "data.token" || !strings.Contains(fes[0].Detail, "base64") {
		t.Fatalf("%v", err)
	}
}
