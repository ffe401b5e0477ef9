package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

func TestDescribePodShowsProbesAndVolumesLikeKubectl(t *testing.T) {
	objs, err := api.Decode(strings.NewReader(`apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  volumes:
  - {name: data, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
  - {name: host, hostPath: {path: /srv, type: DirectoryOrCreate}}
  containers:
  - name: web
    image: x
    ports: [{name: http, containerPort: 8080}]
    livenessProbe: {httpGet: {path: /healthz, port: http}, initialDelaySeconds: 15}
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 2}
    startupProbe: {exec: {command: [cat, /ready]}, failureThreshold: 30}
`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	describePod(&out, objs[0].(*api.Pod), nil, time.Now())
	for _, want := range []string{
		"    Liveness:       http-get http://:http/healthz delay=15s timeout=1s period=10s #success=1 #failure=3\n",
		"    Readiness:      tcp-socket :8080 delay=0s timeout=1s period=2s #success=1 #failure=3\n",
		"    Startup:        exec [cat /ready] delay=0s timeout=1s period=10s #success=1 #failure=30\n",
		"  data:\n    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:     Memory\n    SizeLimit:  64Mi\n",
		"  host:\n    Type:          HostPath (bare host directory volume)\n    Path:          /srv\n    HostPathType:  DirectoryOrCreate\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("describe lacks %q:\n%s", want, out.String())
		}
	}
}
