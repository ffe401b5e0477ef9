package api

import (
	"strings"
	"testing"
)

// terminationGracePeriodSeconds and lifecycle hooks decode and validate
// with Kubernetes' meaning; a bad one is named by its path.
func TestLifecycleFieldsDecodeAndValidate(t *testing.T) {
	ok := map[string]struct{ container, spec string }{
		"grace":         {"", `,"terminationGracePeriodSeconds":3`},
		"grace 0":       {"", `,"terminationGracePeriodSeconds":0`},
		"preStop exec":  {`,"lifecycle":{"preStop":{"exec":{"command":["sh","-c","sleep 1"]}}}`, ""},
		"postStart get": {`,"ports":[{"name":"http","containerPort":80}],"lifecycle":{"postStart":{"httpGet":{"port":"http"}}}`, ""},
		"preStop sleep": {`,"lifecycle":{"preStop":{"sleep":{"seconds":2}}}`, ""},
	}
	for name, c := range ok {
		p := &Pod{}
		if err := DecodeObject([]byte(jsonf(minimalPodJSON, c.container, c.spec)), p); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := map[string]struct{ container, spec, want string }{
		"negative grace": {"", `,"terminationGracePeriodSeconds":-1`, "spec.terminationGracePeriodSeconds: "},
		"two handlers":   {`,"lifecycle":{"preStop":{"exec":{"command":["true"]},"sleep":{"seconds":1}}}`, "", "spec.containers[0].lifecycle.preStop: must have exactly one handler"},
		"no handler":     {`,"lifecycle":{"postStart":{}}`, "", "spec.containers[0].lifecycle.postStart: must have exactly one handler"},
		"empty command":  {`,"lifecycle":{"preStop":{"exec":{}}}`, "", "spec.containers[0].lifecycle.preStop.exec.command: required"},
		"https":          {`,"lifecycle":{"preStop":{"httpGet":{"port":80,"scheme":"HTTPS"}}}`, "", "spec.containers[0].lifecycle.preStop.httpGet.scheme"},
		"unknown port":   {`,"lifecycle":{"preStop":{"httpGet":{"port":"web"}}}`, "", "spec.containers[0].lifecycle.preStop.httpGet.port"},
		"tcpSocket":      {`,"lifecycle":{"preStop":{"tcpSocket":{"port":80}}}`, "", "spec.containers[0].lifecycle.preStop.tcpSocket: not supported by shoal"},
	}
	for name, c := range bad {
		err := DecodeObject([]byte(jsonf(minimalPodJSON, c.container, c.spec)), &Pod{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	initHook := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"initContainers":[{"name":"i","image":"busybox:1","lifecycle":{"preStop":{"sleep":{"seconds":1}}}}],"containers":[{"name":"app","image":"busybox:1"}]}}`
	if err := DecodeObject([]byte(initHook), &Pod{}); err == nil || !strings.Contains(err.Error(), "spec.initContainers[0].lifecycle: must not be set for init containers") {
		t.Errorf("hook on an init container: %v", err)
	}
	if g := TerminationGracePeriod(&Pod{}); g != 30 {
		t.Errorf("default grace %d, want 30", g)
	}
}
